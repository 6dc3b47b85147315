"""The demo data files ship inside the package and match their recorded checksums."""

import hashlib
import re

import pytest

from govchain.data import demo_file, demo_files
from govchain.errors import ConfigError

EXPECTED_FILES = [
    "gov_agency_codes_orglist-100.utf16.csv",
    "nhi_hospital_indicators_DataGov25511.big5.csv",
    "psi_street_names_20200630.xlsx",
    "shandong_2022_undergrad_batch1_admission_cutoff.xlsx",
    "taoyuan_opendata_supply_list_2018.xls",
    "yilan_opendata_catalog_2018-03-20.big5.csv",
]


def _recorded_checksums() -> dict[str, str]:
    sources = (demo_file(EXPECTED_FILES[0]).parent / "SOURCES.md").read_text("utf-8")
    checksums: dict[str, str] = {}
    name = None
    for line in sources.splitlines():
        heading = re.fullmatch(r"### `(.+)`", line)
        if heading:
            name = heading.group(1)
        digest = re.search(r"sha256 `([0-9a-f]{64})`", line)
        if digest and name:
            checksums[name] = digest.group(1)
    return checksums


def test_demo_files_lists_every_dataset() -> None:
    assert demo_files() == EXPECTED_FILES


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_demo_file_matches_recorded_sha256(name: str) -> None:
    recorded = _recorded_checksums()
    digest = hashlib.sha256(demo_file(name).read_bytes()).hexdigest()
    assert digest == recorded[name]


def test_demo_file_unknown_name() -> None:
    with pytest.raises(ConfigError, match=r"demo data file 'nope\.csv' not found"):
        demo_file("nope.csv")
