"""Registries: built-ins and plugins register the same way; unknown names get suggestions."""

from __future__ import annotations

import pytest
from diminution_builders import baseline

from cutover.errors import RulePackError
from validation import RulePack, Step, Workpad, recompute, register_rule
from validation.facts import OffenderFacts
from validation.registry import CORRECTIONS, RULES, Registry, suggest


def test_unknown_rule_suggests_the_closest_name() -> None:
    with pytest.raises(RulePackError) as caught:
        RULES.get("md.good_conduc")
    assert "did you mean 'md.good_conduct'?" in str(caught.value)


def test_unknown_name_far_from_any_lists_the_valid_ones() -> None:
    registry: Registry[int] = Registry("widget")
    registry.add("alpha", 1)
    registry.add("beta", 2)
    with pytest.raises(RulePackError, match="valid names: alpha, beta"):
        registry.get("zzz")


def test_registering_another_object_under_a_taken_name_is_refused() -> None:
    registry: Registry[int] = Registry("widget")
    registry.add("alpha", 1)
    with pytest.raises(RulePackError, match="already registered"):
        registry.add("alpha", 2)


def test_builtin_corrections_are_registered_under_their_codes() -> None:
    assert {"JAIL_CREDIT_MISPOSTED", "GOOD_CONDUCT_RATE"} <= set(CORRECTIONS.names())
    assert suggest("JAIL_CREDIT", CORRECTIONS.names()).startswith("did you mean")


def test_a_plugin_rule_registered_by_name_runs_as_a_step(pack: RulePack) -> None:
    @register_rule("test.no_good_conduct")
    def no_good_conduct(_facts: OffenderFacts, _params: object, pad: Workpad) -> None:
        pad.good_conduct = 0

    names = [s.name for s in pack.steps]
    at = names.index("md.good_conduct") + 1
    custom = pack.with_steps([*names[:at], "test.no_good_conduct", *names[at:]])
    assert Step("test.no_good_conduct", no_good_conduct) in custom.steps
    assert recompute(baseline(), custom).good_conduct == 0
