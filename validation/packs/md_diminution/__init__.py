"""The Maryland diminution-credit pack: ``pack.yaml`` plus the rule functions it names."""

from pathlib import Path

from validation.packs.md_diminution import rules, waterfall
from validation.packs.md_diminution.params import MdDiminutionParams
from validation.registry import register_pack

__all__ = ["PACK_FILE", "MdDiminutionParams", "rules", "waterfall"]

PACK_FILE = register_pack("md_diminution", Path(__file__).with_name("pack.yaml"))
