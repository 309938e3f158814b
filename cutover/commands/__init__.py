"""Command groups of the ``cutover`` command line; each module has ``register(app)``."""

__all__: list[str] = []
