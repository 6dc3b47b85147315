"""Measure validation of a table against a data standard, next to frictionless-py.

Usage: `python bench/governance_validate.py [--rows N] [--rounds R] [--record FILE]
[--no-frictionless]`

The run writes a synthetic health-check register of `--rows` rows (1,000,000
by default) and 10 columns to a temporary CSV file. Its cells are made-up
names, ID numbers with valid check characters for real county codes, mobile
numbers, dates, enum codes, region codes and postal codes. One row in every 10,000 carries a
wrong ID check character and another a date before the standard's minimum.

It then measures, in rows per second:

1. `read_table` on the file (decoding, splitting and shaping, in Python);
2. `validate_table` on the table read, best of `--rounds` rounds;
3. `build_report` and `render_json` on the outcome, in seconds, since their cost
   follows the number of findings rather than of rows;
4. frictionless-py validating the same file against the same standard with
   `pattern` constraints in place of the cn-* formats, one round, when it is
   installed (`pip install -e '.[bench]'`).

The target is a validation rate of at least 10 times the frictionless-py
rate. Both `validate_table` alone and the whole of reading, validating and
reporting are judged against it, since frictionless-py's figure includes
reading the file. The patterns that stand in for the cn-* formats check
the shape of each identifier but not its check character or region, so
frictionless-py does less work per cell than govchain. Progress goes to stderr
and the table to stdout; `--record FILE` appends a dated section to FILE.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from govchain.standards import build_report, parse_standard, render_json, validate_table
from govchain.standards.validate import Validation
from govchain.tabular import read_table

FULL_ROWS = 1_000_000
TARGET_RATIO = 10.0
#: One row in FAULT_EVERY gets a wrong ID check character, and another an
#: examination date before the standard's minimum.
FAULT_EVERY = 10_000
SEED = 20260302
#: The date the ID numbers' birth dates are checked against.
TODAY = date(2026, 3, 2)

_T = TypeVar("_T")

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
COUNTIES = (
    "110101",
    "110105",
    "110108",
    "310104",
    "310115",
    "320102",
    "330106",
    "440106",
    "440305",
    "510107",
)
POSTAL_CODES = ("100080", "100020", "200030", "210000", "310000", "510000", "610000")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
TRADES = (
    "食品生产",
    "食品经营",
    "公共场所",
    "药品经营",
    "化妆品生产",
    "集中式供水",
    "托幼机构",
)
CONCLUSIONS = ("合格", "合格", "合格", "不合格", "复查")

RESIDENT_ID_PATTERN = (
    "[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
    "[0-9]{3}[0-9Xx]"
)


def standard_document(*, patterns: bool) -> dict[str, Any]:
    """Return the benchmark standard; `patterns` puts regexes in place of cn-*."""

    def identifier(name: str, fmt: str, pattern: str, **constraints: Any) -> Any:
        if patterns:
            return {
                "name": name,
                "type": "string",
                "constraints": {**constraints, "pattern": pattern},
            }
        return {
            "name": name,
            "type": "string",
            "format": fmt,
            "constraints": constraints,
        }

    return {
        "fields": [
            {
                "name": "编号",
                "type": "string",
                "constraints": {"required": True, "pattern": "TJ[0-9]{8}"},
            },
            {
                "name": "姓名",
                "type": "string",
                "constraints": {"required": True, "minLength": 2, "maxLength": 30},
            },
            identifier(
                "身份证号",
                "cn-resident-id",
                RESIDENT_ID_PATTERN,
                required=True,
                unique=True,
            ),
            identifier("手机号", "cn-mobile", "1[3-9][0-9]{9}"),
            {"name": "性别", "type": "string", "constraints": {"enum": ["男", "女"]}},
            {
                "name": "从业类别",
                "type": "string",
                "constraints": {"required": True, "enum": list(TRADES)},
            },
            {
                "name": "体检日期",
                "type": "date",
                "constraints": {"required": True, "minimum": "2000-01-01"},
            },
            {
                "name": "体检结论",
                "type": "string",
                "constraints": {"required": True, "enum": ["合格", "不合格", "复查"]},
            },
            identifier("所属行政区划", "cn-region-code", "[1-9][0-9]{5}"),
            identifier("邮政编码", "cn-postal-code", "[0-9]{6}"),
        ],
        "primaryKey": "编号",
    }


def resident_id(serial: int, county: str) -> str:
    """Return a valid ID number that no other serial below 16,425,000 gets.

    The birth day comes from `serial // 1000` through a bijection onto 45
    years of days (17 and 16,425 are coprime), and the sequence number is
    `serial % 1000`, so random collisions cannot plant unplanned repeats.
    """
    born = date(1960, 1, 1) + timedelta(days=(serial // 1000) * 17 % 16_425)
    body = f"{county}{born:%Y%m%d}{serial % 1000:03d}"
    total = sum(
        int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True)
    )
    return body + CHECK_CHARACTERS[total % 11]


def write_register(path: Path, rows: int) -> None:
    """Write the synthetic register, with faults planted at fixed intervals."""
    rng = random.Random(SEED)
    first_day = date(2020, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(
            ",".join(f["name"] for f in standard_document(patterns=False)["fields"])
        )
        out.write("\n")
        for n in range(rows):
            county = rng.choice(COUNTIES)
            id_number = resident_id(n, county)
            if n % FAULT_EVERY == 1:
                wrong = CHECK_CHARACTERS[
                    (CHECK_CHARACTERS.index(id_number[-1]) + 1) % 11
                ]
                id_number = id_number[:-1] + wrong
            examined = first_day + timedelta(days=rng.randrange(2000))
            day = "1999-12-31" if n % FAULT_EVERY == 2 else examined.isoformat()
            name = rng.choice(SURNAMES) + "".join(
                rng.choices(GIVEN, k=rng.randint(1, 2))
            )
            cells = (
                f"TJ{n:08d}",
                name,
                id_number,
                f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}",
                "男" if int(id_number[16]) % 2 else "女",
                rng.choice(TRADES),
                day,
                rng.choice(CONCLUSIONS),
                county,
                rng.choice(POSTAL_CODES),
            )
            out.write(",".join(cells))
            out.write("\n")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], _T]) -> tuple[float, _T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure_govchain(path: Path, rounds: int) -> tuple[dict[str, float], Validation]:
    standard = parse_standard(standard_document(patterns=False), source="bench.json")
    read_seconds, table = timed(lambda: read_table(path))
    log(f"read_table: {read_seconds:.2f} s")
    best = float("inf")
    validation: Validation | None = None
    for round_number in range(rounds):
        seconds, validation = timed(
            lambda: validate_table(table, standard, today=TODAY)
        )
        log(f"validate_table round {round_number + 1}: {seconds:.2f} s")
        best = min(best, seconds)
    assert validation is not None
    report_seconds, _ = timed(lambda: render_json(build_report(validation)))
    log(f"build_report + render_json: {report_seconds:.2f} s")
    return {
        "read": read_seconds,
        "validate": best,
        "report": report_seconds,
    }, validation


def measure_frictionless(path: Path) -> tuple[float, int] | None:
    # Imported by name so that type checking passes where the bench extra is
    # not installed.
    try:
        frictionless: Any = importlib.import_module("frictionless")
    except ImportError:
        log("frictionless is not installed: pip install -e '.[bench]'")
        return None
    schema = frictionless.Schema.from_descriptor(standard_document(patterns=True))
    resource = frictionless.Resource(
        path=path.name, basepath=str(path.parent), schema=schema, encoding="utf-8"
    )
    # frictionless-py stops at 1,000 errors by default, which would cut the
    # run short if the file had that many.
    seconds, report = timed(lambda: resource.validate(limit_errors=10**9))
    errors = sum(len(task.errors) for task in report.tasks)
    log(f"frictionless validate: {seconds:.2f} s, {errors} errors")
    return seconds, errors


def machine_facts() -> list[tuple[str, str]]:
    cpu = "unknown"
    for line in _read_lines("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    facts = [
        ("CPU", cpu),
        (
            "cores",
            f"{os.cpu_count()} (usable by this process: {len(os.sched_getaffinity(0))})",
        ),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("Polars", pl.__version__),
    ]
    try:
        facts.append(("frictionless", metadata.version("frictionless")))
    except metadata.PackageNotFoundError:
        facts.append(("frictionless", "not installed"))
    facts.append(("govchain commit", _git_commit()))
    return facts


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []


def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} with uncommitted changes in src/" if changes else commit


def render_table(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines = [
        "| Measure | Figure | Baseline | Target | Result |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def result_rows(
    count: int, seconds: dict[str, float], frictionless: tuple[float, int] | None
) -> list[tuple[str, str, str, str, str]]:
    def rate(value: float) -> str:
        return f"{count / value:,.0f} rows/s"

    def judged(measure: str, value: float) -> tuple[str, str, str, str, str]:
        if frictionless is None:
            return (measure, rate(value), "-", "-", "-")
        ratio = frictionless[0] / value
        return (
            measure,
            f"{rate(value)} ({ratio:.1f}x)",
            rate(frictionless[0]),
            f">= {TARGET_RATIO:.0f}x frictionless-py",
            "pass" if ratio >= TARGET_RATIO else "miss",
        )

    total = seconds["read"] + seconds["validate"] + seconds["report"]
    rows = [
        ("read_table (CSV to text cells)", rate(seconds["read"]), "-", "-", "-"),
        judged("validate_table", seconds["validate"]),
        ("build_report + render_json", f"{seconds['report']:.3f} s", "-", "-", "-"),
        judged("read + validate + report", total),
    ]
    if frictionless is not None:
        rows.append(("frictionless-py validate", rate(frictionless[0]), "-", "-", "-"))
    return rows


def render_record(
    count: int,
    rounds: int,
    rows: list[tuple[str, str, str, str, str]],
    notes: list[str],
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    python = os.path.relpath(sys.executable)
    command = " ".join(
        [python if not python.startswith("..") else sys.executable, *sys.argv]
    )
    lines = [
        f"## {stamp}: validating {count:,} rows against a data standard",
        "",
        f"Command: `{command}`",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in machine_facts()]
    lines.append(
        f"- validate_table: best of {rounds} rounds; everything else one round"
    )
    lines += [f"- {note}" for note in notes]
    lines += ["", render_table(rows), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="Rows to generate.")
    parser.add_argument("--rounds", type=int, default=3, help="validate_table rounds.")
    parser.add_argument("--record", type=Path, help="Append a dated section to FILE.")
    parser.add_argument(
        "--no-frictionless", action="store_true", help="Skip the frictionless-py run."
    )
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="govchain-bench-") as directory:
        path = Path(directory) / "register.csv"
        log(f"writing {args.rows:,} rows to {path}")
        write_seconds, _ = timed(lambda: write_register(path, args.rows))
        size_mb = path.stat().st_size / 1e6
        log(f"written in {write_seconds:.1f} s, {size_mb:.0f} MB")
        seconds, validation = measure_govchain(path, args.rounds)
        frictionless = None if args.no_frictionless else measure_frictionless(path)

    rules = validation.frame.group_by("rule").len().sort("rule")
    found = ", ".join(f"{rule} {count}" for rule, count in rules.iter_rows())
    notes = [
        f"file: {size_mb:.0f} MB of UTF-8 CSV, {args.rows:,} rows x 10 columns",
        f"govchain findings: {found or 'none'}",
        f"1-minute load average {load_before:.2f} at the start and "
        f"{os.getloadavg()[0]:.2f} at the end",
    ]
    if frictionless is not None:
        notes.append(f"frictionless-py errors: {frictionless[1]}")

    rows = result_rows(args.rows, seconds, frictionless)
    print(render_table(rows))
    if args.record is not None:
        with args.record.open("a", encoding="utf-8") as out:
            out.write("\n" + render_record(args.rows, args.rounds, rows, notes))
        log(f"recorded in {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
