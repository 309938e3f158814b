"""load stage."""

__all__: list[str] = []
