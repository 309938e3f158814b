"""Built-in rule packs; importing this package registers them by name."""

from validation.packs import md_diminution

__all__ = ["md_diminution"]
