"""validation stage."""

__all__: list[str] = []
