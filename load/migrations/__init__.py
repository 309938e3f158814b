"""Alembic migrations of the target schema (``env.py`` and ``versions/``)."""

__all__: list[str] = []
