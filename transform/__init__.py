"""transform stage."""

__all__: list[str] = []
