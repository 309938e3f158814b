"""cutover: migrate offender records out of an end-of-life system and prove every release date."""

__version__ = "0.1.0"

__all__ = ["__version__"]
