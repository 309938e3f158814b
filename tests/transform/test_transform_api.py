"""The transform package's public surface and its function registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import transform
from cutover.errors import MappingError
from transform import register_function, registered, row_hash
from transform.functions import get_function


def test_public_surface_is_pinned() -> None:
    assert sorted(transform.__all__) == [
        "CheckReport",
        "CompiledProject",
        "CoverageGap",
        "MappingProject",
        "OutputTables",
        "QuarantineFilter",
        "QuarantineGroup",
        "StagedSchema",
        "TableAccount",
        "TableResult",
        "TransformResult",
        "check_project",
        "compile_project",
        "export_quarantine",
        "group_quarantine",
        "list_quarantine",
        "load_project",
        "register_function",
        "registered",
        "row_hash",
        "run_transform",
        "staged_name",
    ]


def test_builtins_use_the_public_registration() -> None:
    assert {"title_name", "ascii_fold"} <= set(registered())


def test_unknown_function_suggests_the_closest() -> None:
    with pytest.raises(MappingError) as info:
        get_function("title_nam")
    assert info.value.hint == "did you mean title_name?"


def test_a_name_cannot_be_registered_twice_for_different_functions() -> None:
    @register_function("test_only_upper", returns="text", arity=1)
    def upper(value: str | None) -> str | None:
        return None if value is None else value.upper()

    assert registered()["test_only_upper"].func is upper
    with pytest.raises(MappingError, match="already registered"):
        register_function("test_only_upper", returns="text")(lambda v: v)


@pytest.mark.parametrize(
    ("values", "other"),
    [
        pytest.param(["5"], [5], id="text-vs-integer"),
        pytest.param(["5"], ["5 "], id="padding-counts"),
        pytest.param([dt.date(2020, 1, 1)], ["2020-01-01"], id="date-vs-text"),
        pytest.param([Decimal("1.0")], [1.0], id="decimal-vs-float"),
        pytest.param([None, "a"], ["a", None], id="order-counts"),
    ],
)
def test_row_hash_tells_values_apart(values: list[object], other: list[object]) -> None:
    assert row_hash(values) != row_hash(other)
    assert row_hash(values) == row_hash(list(values))
    assert len(row_hash(values)) == 32
