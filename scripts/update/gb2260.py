"""Build `src/govchain/data/gb2260/regions.tsv` from the shipped GB/T 2260 tables.

Usage: `python scripts/update/gb2260.py [--check]`

The source tables sit next to the output, in `src/govchain/data/gb2260/`, and
SOURCES.md there gives the origin of each:

- `mca_198012.tsv` and `mca_201904.tsv`: the Ministry of Civil Affairs
  editions of December 1980 and April 2019 (columns Source, Revision, Code,
  Name);
- `modood_2023/provinces.csv`, `cities.csv` and `areas.csv`: the National
  Bureau of Statistics division codes of 2023, with 2-digit province codes and
  4-digit prefecture codes that this script pads with zeros to 6 digits.

The output has one line per 6-digit code with its name in each edition, empty
where that edition lacks the code, so `govchain.identifiers.cn.region` reads a
single small file. `--check` rebuilds in memory and exits with status 1 when
the shipped file differs, which a test runs. Validation never runs this script.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "src" / "govchain" / "data" / "gb2260"
OUTPUT = DATA_DIR / "regions.tsv"

#: Edition names, oldest first, as they appear in the output header.
EDITIONS = ("mca-198012", "mca-201904", "nbs-2023")

HEADER = """\
# GB/T 2260 administrative division codes of China in every shipped edition.
# Built by scripts/update/gb2260.py from the tables in this folder (see SOURCES.md);
# do not edit by hand. Each edition column contains the name in that edition, or is
# empty when the edition does not list the code.
# mca-198012: Ministry of Civil Affairs edition 1980-12 (mca_198012.tsv)
# mca-201904: Ministry of Civil Affairs edition 2019-04 (mca_201904.tsv)
# nbs-2023: National Bureau of Statistics division codes 2023 (modood_2023/*.csv)
"""


def _add(table: dict[str, str], code: str, name: str, source: str) -> None:
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"{source}: code {code!r} is not 6 digits")
    if table.get(code, name) != name:
        raise ValueError(f"{source}: code {code} has two names")
    table[code] = name


def read_mca(path: Path) -> dict[str, str]:
    """Read one Ministry of Civil Affairs table (Source, Revision, Code, Name)."""
    table: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        for row in rows:
            _add(table, row["Code"], row["Name"], path.name)
    return table


def read_nbs(folder: Path) -> dict[str, str]:
    """Read the three NBS 2023 tables, padding province and prefecture codes."""
    table: dict[str, str] = {}
    for name, padding in (
        ("provinces.csv", "0000"),
        ("cities.csv", "00"),
        ("areas.csv", ""),
    ):
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                _add(table, row["code"] + padding, row["name"], name)
    return table


def build() -> str:
    """Return the text of regions.tsv built from the source tables."""
    editions = [
        read_mca(DATA_DIR / "mca_198012.tsv"),
        read_mca(DATA_DIR / "mca_201904.tsv"),
        read_nbs(DATA_DIR / "modood_2023"),
    ]
    codes = sorted(set().union(*editions))
    lines = [HEADER.rstrip("\n"), "\t".join(("code", *EDITIONS))]
    for code in codes:
        lines.append(
            "\t".join((code, *(edition.get(code, "") for edition in editions)))
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when the shipped regions.tsv differs from a rebuild",
    )
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} is out of date; run {sys.argv[0]}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({text.count(chr(10)) - 8} codes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
