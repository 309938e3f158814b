"""Parameter files of the validation stage that are not rule packs (the screen-access policy)."""

__all__: list[str] = []
