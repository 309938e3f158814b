"""Pack files: every problem reported at once, each with the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from validation import PackFileError, load_pack
from validation.packs.md_diminution import PACK_FILE


def write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = PACK_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_builtin_pack_loads_by_name_and_by_path() -> None:
    by_name = load_pack("md_diminution")
    assert by_name.name == "md_diminution"
    assert load_pack(PACK_FILE).steps == by_name.steps


def test_unknown_parameter_key_is_named_with_its_line(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "    min_days_per_week: 3", "    min_days_per_weak: 3")
    with pytest.raises(PackFileError) as caught:
        load_pack(path)
    line = line_of(path, "min_days_per_weak")
    assert (
        f"{path}:{line}: parameters.earned.labor_pool.min_days_per_weak: unknown key"
        in caught.value.problems
    )
    assert f"{path}:{line}" in str(caught.value)


def test_all_problems_come_at_once(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "        cap: 20", "        cap: lots")
    path.write_text(
        path.read_text(encoding="utf-8").replace("  - md.monthly_cap ", "  - md.monthly_caps "),
        encoding="utf-8",
    )
    with pytest.raises(PackFileError) as caught:
        load_pack(path)
    text = "\n".join(caught.value.problems)
    assert f"{path}:{line_of(path, 'cap: lots')}: parameters.monthly_cap.schedule.0.cap" in text
    assert f"{path}:{line_of(path, 'md.monthly_caps')}: unknown rule 'md.monthly_caps'" in text
    assert "did you mean 'md.monthly_cap'?" in text


def test_unknown_top_level_key_is_rejected(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "version: ", "verson: ")
    with pytest.raises(PackFileError) as caught:
        load_pack(path)
    text = "\n".join(caught.value.problems)
    assert f"{path}:{line_of(path, 'verson')}: verson: unknown key" in text
    assert "version: Field required" in text


def test_schedule_rows_must_be_in_date_order(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "effective_from: 1992-10-01", "effective_from: 1892-10-01")
    with pytest.raises(PackFileError, match="increasing, distinct effective_from"):
        load_pack(path)


def test_unknown_correction_code_suggests_the_closest(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "    - GOOD_CONDUCT_RATE", "    - GOOD_CONDUCT_RATES")
    with pytest.raises(PackFileError, match="did you mean 'GOOD_CONDUCT_RATE'"):
        load_pack(path)


def test_unknown_pack_name_lists_the_registered_packs() -> None:
    with pytest.raises(Exception, match="md_diminution") as caught:
        load_pack("md_diminutoin")
    assert "did you mean 'md_diminution'?" in str(caught.value)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "  rounding: half_up", "  rounding: [half_up")
    with pytest.raises(PackFileError) as caught:
        load_pack(path)
    assert str(path) in caught.value.problems[0]
