"""GB/T 2260 region codes and their shipped tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from govchain.identifiers import InvalidComponent, InvalidLength
from govchain.identifiers.cn import region

ROOT = Path(__file__).resolve().parents[2]


def test_region_lookup_current():
    info = region.lookup("110105")
    assert info.name == "朝阳区"
    assert info.current
    assert info.province == "北京市"
    assert info.level == "county"
    assert info.editions == ("mca-198012", "mca-201904", "nbs-2023")


def test_region_lookup_retired():
    info = region.lookup("412723")
    assert info.name == "商水县"
    assert not info.current
    assert info.editions == ("mca-198012",)
    assert info.province == "河南省"


def test_region_lookup_renamed():
    info = region.lookup("120110")
    assert info.names["mca-198012"] == "东郊区"
    assert info.names["mca-201904"] == "东丽区"
    assert info.name == "东丽区"


def test_region_lookup_levels():
    assert region.lookup("110000").level == "province"
    assert region.lookup("110100").level == "prefecture"


def test_region_lookup_unknown():
    with pytest.raises(InvalidComponent) as caught:
        region.lookup("999999")
    assert caught.value.reason == "unknown-region"


def test_region_lookup_malformed():
    with pytest.raises(InvalidLength):
        region.lookup("11010")


def test_region_known_and_current():
    assert region.is_known("412723")
    assert not region.is_current("412723")
    assert region.is_current("110105")
    assert not region.is_known("999999")
    assert not region.is_known("11010")


def test_region_validate_current_only():
    assert region.validate("110105", current_only=True) == "110105"
    with pytest.raises(InvalidComponent) as caught:
        region.validate("412723", current_only=True)
    assert caught.value.reason == "retired-region"


def test_region_retired_noted():
    assert region.check("412723").notes == ("retired-region",)


def test_region_issuer_notes():
    assert region.issuer_notes("110105") == ()
    assert region.issuer_notes("110000") == ("province-level-region",)
    assert region.issuer_notes("110200") == (
        "unlisted-region",
        "prefecture-level-region",
    )
    assert region.issuer_notes("999900") is None


def test_region_table_size():
    assert len(region.known_codes()) == 5687
    assert len(region.current_codes()) < len(region.known_codes())


def test_region_table_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update" / "gb2260.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_region_import_loads_nothing():
    code = (
        "import sys, govchain.identifiers as ids\n"
        "from govchain.identifiers.cn import region\n"
        "assert 'polars' not in sys.modules, 'polars imported'\n"
        "assert region._table.cache_info().currsize == 0, 'table read'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
