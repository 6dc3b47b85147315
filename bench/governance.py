"""Measure the data governance pipeline on a generated register, next to frictionless-py.

Usage: `python bench/governance.py [--rows N] [--record FILE] [--no-frictionless]
[--no-xlsx] [--cache DIR]`

The run generates a register of `--rows` rows (1,000,000 by default) and 10
columns of made-up personal data: case numbers, names, resident ID numbers with
valid check characters for real county codes, mobile numbers, sex, home
addresses, examination dates, conclusions, region codes and postal codes. One
row in every 10,000 carries a wrong ID check character and another a date
before the standard's minimum. The register is written as a CSV file and as an
XLSX workbook whose text cells are shared strings, the way Excel and WPS save
them. Generating a million-row workbook takes a while, so both files
are cached under `--cache` (a folder in the system's temporary directory by
default) and reused by later runs with the same row count.

Each pipeline runs in a fresh Python process, so its peak resident size
(`ru_maxrss`) belongs to that pipeline alone:

- CSV: `read_table`, `validate_table` with the quality report, cleaning with a
  six-rule rule set, classification with the default rules, desensitization
  with the default policy for one consumer, and the content hashes of the
  cleaned version and of the delivered view;
- XLSX: `read_table` on the workbook.

The baseline is frictionless-py validating the same CSV file against the same
standard, with `pattern` constraints in place of the cn-* formats it lacks,
measured in this run. The targets: the CSV pipeline end to end under 10 s,
validation at least 10 times the frictionless-py rate, peak memory under
2 GB and the XLSX import under 15 s. Progress goes to stderr and the table to
stdout; `--record FILE` appends a dated section to FILE.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from xml.sax.saxutils import escape

import polars as pl

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.governance_validate import RESIDENT_ID_PATTERN, machine_facts

FULL_ROWS = 1_000_000
SEED = 20261204
FAULT_EVERY = 10_000
TODAY = date(2026, 3, 2)

TARGET_END_TO_END_S = 10.0
TARGET_RATIO = 10.0
TARGET_PEAK_MB = 2048.0
TARGET_XLSX_S = 15.0

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
#: County codes with the province, city and district an address starts with.
COUNTIES = (
    ("110101", "北京市", "北京市", "东城区"),
    ("110105", "北京市", "北京市", "朝阳区"),
    ("310104", "上海市", "上海市", "徐汇区"),
    ("320102", "江苏省", "南京市", "玄武区"),
    ("330106", "浙江省", "杭州市", "西湖区"),
    ("440104", "广东省", "广州市", "越秀区"),
    ("440106", "广东省", "广州市", "天河区"),
    ("440305", "广东省", "深圳市", "南山区"),
    ("510107", "四川省", "成都市", "武侯区"),
    ("620102", "甘肃省", "兰州市", "城关区"),
)
ROADS = ("人民路", "解放路", "中山路", "建设路", "和平街", "文化路", "新华街", "长江路")
POSTAL_CODES = ("100010", "100020", "200030", "210000", "310000", "510000", "610000")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
CONCLUSIONS = ("合格", "合格", "合格", "不合格", "复查")
CLEANING_RULES = {
    "name": "bench-register",
    "version": "1",
    "rules": [
        {"op": "trim"},
        {"op": "half_width"},
        {"op": "iso_date", "fields": ["体检日期"]},
        {"op": "phone", "fields": ["手机号"]},
        {"op": "upper_check", "fields": ["身份证号"]},
        {"op": "dedup", "key": ["身份证号"]},
    ],
}

_T = TypeVar("_T")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(fn: Callable[[], _T]) -> tuple[float, _T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# -- The register ------------------------------------------------------------


def _pick(choices: Any, index: pl.Series) -> pl.Series:
    return pl.Series(list(choices)).gather(index)


def _draw(n: int, salt: int, modulo: int) -> pl.Series:
    """Return `n` pseudo-random integers below `modulo`, fixed by `salt`."""
    hashed = pl.select(pl.int_range(n, dtype=pl.UInt64).hash(SEED + salt)).to_series()
    return (hashed % modulo).cast(pl.Int64)


def generate(n: int) -> pl.DataFrame:
    """Return the synthetic register as a frame of text columns, with planted faults."""
    serial = pl.Series(range(n), dtype=pl.Int64)
    county = _draw(n, 1, len(COUNTIES))
    # (serial // 1000) * 17 % 16425 is a bijection onto 45 years of days and
    # the sequence number is serial % 1000, so no two rows share an ID number.
    born = pl.select(
        pl.lit(date(1960, 1, 1))
        + pl.duration(days=(pl.lit(serial) // 1000) * 17 % 16_425)
    ).to_series()
    body = (
        _pick([c[0] for c in COUNTIES], county)
        + born.dt.strftime("%Y%m%d")
        + (serial % 1000).cast(pl.String).str.zfill(3)
    )
    total = sum(
        (body.str.slice(k, 1).cast(pl.Int64) * w for k, w in enumerate(WEIGHTS)),
        start=pl.Series([0] * n),
    )
    check = total % 11
    wrong = (serial % FAULT_EVERY) == 1
    check = pl.select(
        pl.when(wrong).then((check + 1) % 11).otherwise(check)
    ).to_series()
    id_number = body + _pick(CHECK_CHARACTERS, check)
    given_two = _draw(n, 4, 2) == 1
    name = (
        _pick(SURNAMES, _draw(n, 2, len(SURNAMES)))
        + _pick(GIVEN, _draw(n, 3, len(GIVEN)))
        + pl.select(
            pl.when(given_two)
            .then(pl.lit(_pick(GIVEN, _draw(n, 5, len(GIVEN)))))
            .otherwise(pl.lit(""))
        ).to_series()
    )
    address = (
        _pick([c[1] for c in COUNTIES], county)
        + _pick([c[2] for c in COUNTIES], county)
        + _pick([c[3] for c in COUNTIES], county)
        + _pick(ROADS, _draw(n, 6, len(ROADS)))
        + (_draw(n, 7, 999) + 1).cast(pl.String)
        + "号"
    )
    examined = pl.select(
        pl.lit(date(2020, 1, 1)) + pl.duration(days=pl.lit(_draw(n, 8, 2000)))
    ).to_series()
    day = pl.select(
        pl.when(pl.lit(serial % FAULT_EVERY) == 2)
        .then(pl.lit("1999-12-31"))
        .otherwise(pl.lit(examined.dt.strftime("%Y-%m-%d")))
    ).to_series()
    mobile = (
        "1"
        + (_draw(n, 9, 7) + 3).cast(pl.String)
        + _draw(n, 10, 10**9).cast(pl.String).str.zfill(9)
    )
    sex_digit = id_number.str.slice(16, 1).cast(pl.Int64)
    return pl.DataFrame(
        {
            "编号": "TJ" + serial.cast(pl.String).str.zfill(8),
            "姓名": name,
            "身份证号": id_number,
            "手机号": mobile,
            "性别": pl.select(
                pl.when(pl.lit(sex_digit) % 2 == 1)
                .then(pl.lit("男"))
                .otherwise(pl.lit("女"))
            ).to_series(),
            "住址": address,
            "体检日期": day,
            "体检结论": _pick(CONCLUSIONS, _draw(n, 11, len(CONCLUSIONS))),
            "所属行政区划": _pick([c[0] for c in COUNTIES], county),
            "邮政编码": _pick(POSTAL_CODES, _draw(n, 12, len(POSTAL_CODES))),
        }
    )


def standard_document(*, patterns: bool) -> dict[str, Any]:
    """Return the register's standard; `patterns` puts regexes in place of cn-*."""

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
                "name": "住址",
                "type": "string",
                "constraints": {"required": True, "maxLength": 200},
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


def write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    """Write `frame` as a one-sheet workbook of shared strings, as Excel saves text."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.'
            "openxmlformats.org/officeDocument/2006/relationships/officeDocument"
            '" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
            'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="登记表" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.'
            "openxmlformats.org/officeDocument/2006/relationships/worksheet"
            '" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
    }
    letters = [chr(ord("A") + index) for index in range(frame.width)]
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                b'2006/main"><sheetData>'
            )
            rows = [tuple(frame.columns), *frame.iter_rows()]
            for number, row in enumerate(rows, start=1):
                cells = "".join(
                    f'<c r="{letter}{number}" t="s">'
                    f"<v>{strings.setdefault(cell, len(strings))}</v></c>"
                    for letter, cell in zip(letters, row, strict=True)
                    if cell is not None
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w") as table:
            table.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                + f'2006/main" uniqueCount="{len(strings)}">'.encode()
            )
            for text in strings:
                table.write(f"<si><t>{escape(text)}</t></si>".encode())
            table.write(b"</sst>")


def cached_files(rows: int, cache: Path) -> tuple[Path, Path, dict[str, float]]:
    """Return the CSV and XLSX paths, writing whichever is missing, and the times."""
    cache.mkdir(parents=True, exist_ok=True)
    csv_path = cache / f"register-{rows}-{SEED}.csv"
    xlsx_path = cache / f"register-{rows}-{SEED}-shared-strings.xlsx"
    seconds: dict[str, float] = {}
    frame: pl.DataFrame | None = None
    if not csv_path.exists() or not xlsx_path.exists():
        seconds["generate"], frame = timed(lambda: generate(rows))
        log(f"generated {rows:,} rows in {seconds['generate']:.1f} s")
    if not csv_path.exists():
        assert frame is not None
        data = frame
        seconds["csv"], _ = timed(lambda: data.write_csv(csv_path))
        log(f"wrote {csv_path} in {seconds['csv']:.1f} s")
    if not xlsx_path.exists():
        assert frame is not None
        data = frame
        partial = xlsx_path.with_suffix(".partial")
        seconds["xlsx"], _ = timed(lambda: write_xlsx(data, partial))
        partial.replace(xlsx_path)
        log(f"wrote {xlsx_path} in {seconds['xlsx']:.1f} s")
    return csv_path, xlsx_path, seconds


# -- The pipelines, each in its own process ------------------------------------


def run_csv_pipeline(path: Path) -> dict[str, Any]:
    """Run every step on the CSV file and return seconds per step and facts."""
    from govchain.governance import DEFAULT_POLICY, apply_policy
    from govchain.governance.classify import DEFAULT_RULES, classify_frame
    from govchain.governance.cleaning import clean_frame, parse_rule_set
    from govchain.governance.digest import frame_rows_root
    from govchain.standards import (
        build_report,
        parse_standard,
        render_json,
        validate_table,
    )
    from govchain.tabular import read_table

    standard = parse_standard(standard_document(patterns=False), source="bench.json")
    rule_set = parse_rule_set(CLEANING_RULES)
    seconds: dict[str, float] = {}
    seconds["import"], table = timed(lambda: read_table(path))
    log(f"  import: {seconds['import']:.2f} s ({type(table.rows).__name__})")

    def check() -> Any:
        validation = validate_table(table, standard, today=TODAY)
        render_json(build_report(validation))
        return validation

    seconds["validate"], validation = timed(check)
    log(f"  validate + report: {seconds['validate']:.2f} s")
    names = dict(
        zip([f"c{i}" for i in range(len(table.header))], table.header, strict=True)
    )
    frame = table.text_frame().rename(names)
    seconds["clean"], cleaned = timed(lambda: clean_frame(frame, rule_set).frame)
    log(f"  clean: {seconds['clean']:.2f} s, {cleaned.height:,} rows kept")
    seconds["classify"], grades = timed(lambda: classify_frame(cleaned, DEFAULT_RULES))
    log(f"  classify: {seconds['classify']:.2f} s, level {grades.level}")
    levels = {g.field: g.level for g in grades.fields}
    kinds = {g.field: g.kind for g in grades.fields}
    seconds["desensitize"], view = timed(
        lambda: apply_policy(
            cleaned,
            DEFAULT_POLICY,
            field_levels=levels,
            consumer="city-cdc",
            master_key=b"\x07" * 32,
            allowed={"身份证号", "体检日期"},
            sharing="conditional",
            purpose="epidemiology",
            field_kinds=kinds,
        )
    )
    log(f"  desensitize: {seconds['desensitize']:.2f} s")
    seconds["hash"], roots = timed(
        lambda: (frame_rows_root(cleaned), frame_rows_root(view))
    )
    log(f"  hash: {seconds['hash']:.2f} s")
    rules = validation.frame.group_by("rule").len().sort("rule")
    return {
        "seconds": seconds,
        "rows": len(table.rows),
        "findings": {rule: count for rule, count in rules.iter_rows()},
        "grades": {g.field: f"L{g.level} {g.category}" for g in grades.fields},
        "fast_path": type(table.rows).__name__ == "FrameRows",
        "roots": list(roots),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_xlsx_pipeline(path: Path) -> dict[str, Any]:
    from govchain.tabular import read_table

    seconds, table = timed(lambda: read_table(path))
    log(f"  import: {seconds:.2f} s ({type(table.rows).__name__})")
    return {
        "seconds": {"import": seconds},
        "rows": len(table.rows),
        "fast_path": type(table.rows).__name__ == "FrameRows",
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _grid_path_fact(xlsx: dict[str, Any] | None) -> str:
    """Return whether the XLSX pipeline took the grid path, for the record."""
    if xlsx is None:
        return "not run"
    return "yes" if xlsx["fast_path"] else "no"


def in_child(stage: str, path: Path) -> dict[str, Any]:
    """Run one pipeline in a fresh interpreter and return its JSON result."""
    log(f"{stage} pipeline on {path.name}")
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage, str(path)],
        stdout=subprocess.PIPE,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure_frictionless(path: Path) -> float | None:
    try:
        frictionless: Any = importlib.import_module("frictionless")
    except ImportError:
        log("frictionless is not installed: pip install -e '.[bench]'")
        return None
    schema = frictionless.Schema.from_descriptor(standard_document(patterns=True))
    resource_ = frictionless.Resource(
        path=path.name, basepath=str(path.parent), schema=schema, encoding="utf-8"
    )
    seconds, report = timed(lambda: resource_.validate(limit_errors=10**9))
    errors = sum(len(task.errors) for task in report.tasks)
    log(f"frictionless validate: {seconds:.2f} s, {errors} errors")
    return seconds


# -- Output -----------------------------------------------------------------


def result_rows(
    rows: int,
    csv: dict[str, Any],
    xlsx: dict[str, Any] | None,
    frictionless: float | None,
) -> list[tuple[str, str, str, str, str]]:
    def rate(seconds: float) -> str:
        return f"{rows / seconds:,.0f} rows/s ({seconds:.2f} s)"

    steps = csv["seconds"]
    out: list[tuple[str, str, str, str, str]] = [
        ("CSV import (read_table)", rate(steps["import"]), "-", "-", "-")
    ]
    if frictionless is not None:
        ratio = frictionless / steps["validate"]
        out.append(
            (
                "validate + quality report",
                f"{rate(steps['validate'])}, {ratio:.1f}x",
                rate(frictionless),
                f">= {TARGET_RATIO:.0f}x frictionless-py",
                "pass" if ratio >= TARGET_RATIO else "miss",
            )
        )
    else:
        out.append(
            ("validate + quality report", rate(steps["validate"]), "-", "-", "-")
        )
    for step, label in (
        ("clean", "clean (6 rules)"),
        ("classify", "classify (default rules)"),
        ("desensitize", "desensitize (default policy)"),
        ("hash", "hash (cleaned version and delivery)"),
    ):
        out.append((label, rate(steps[step]), "-", "-", "-"))
    total = sum(steps.values())
    out.append(
        (
            "CSV end to end",
            rate(total),
            "-",
            f"< {TARGET_END_TO_END_S:.0f} s",
            "pass" if total < TARGET_END_TO_END_S else "miss",
        )
    )
    out.append(
        (
            "CSV pipeline peak memory",
            f"{csv['peak_mb']:,.0f} MB",
            "-",
            f"< {TARGET_PEAK_MB:,.0f} MB",
            "pass" if csv["peak_mb"] < TARGET_PEAK_MB else "miss",
        )
    )
    if xlsx is not None:
        seconds = xlsx["seconds"]["import"]
        out.append(
            (
                "XLSX import (read_table)",
                rate(seconds),
                "-",
                f"< {TARGET_XLSX_S:.0f} s",
                "pass" if seconds < TARGET_XLSX_S else "miss",
            )
        )
        out.append(
            ("XLSX import peak memory", f"{xlsx['peak_mb']:,.0f} MB", "-", "-", "-")
        )
    if frictionless is not None:
        out.append(("frictionless-py validate", rate(frictionless), "-", "-", "-"))
    return out


def render_table(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines = [
        "| Measure | Figure | Baseline | Target | Result |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def render_record(
    count: int, rows: list[tuple[str, str, str, str, str]], notes: list[str]
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {stamp}: the governance pipeline on {count:,} rows",
        "",
        f"Command: `.venv/bin/python {' '.join(sys.argv)}`",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in machine_facts()]
    lines += [f"- {note}" for note in notes]
    lines += ["", render_table(rows), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL_ROWS, help="Rows to generate.")
    parser.add_argument("--record", type=Path, help="Append a dated section to FILE.")
    parser.add_argument(
        "--no-frictionless", action="store_true", help="Skip frictionless-py."
    )
    parser.add_argument("--no-xlsx", action="store_true", help="Skip the XLSX import.")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "govchain-bench-governance",
        help="Folder for the generated files, reused across runs.",
    )
    parser.add_argument("--stage", choices=("csv", "xlsx"), help=argparse.SUPPRESS)
    parser.add_argument("path", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage is not None:
        run = run_csv_pipeline if args.stage == "csv" else run_xlsx_pipeline
        print(json.dumps(run(args.path)))
        return 0

    csv_path, xlsx_path, written = cached_files(args.rows, args.cache)
    load_before = os.getloadavg()[0]
    csv = in_child("csv", csv_path)
    xlsx = None if args.no_xlsx else in_child("xlsx", xlsx_path)
    frictionless = None if args.no_frictionless else measure_frictionless(csv_path)
    load_after = os.getloadavg()[0]

    generated = (
        ", ".join(f"{k} {v:.1f} s" for k, v in written.items())
        or "reused from the cache"
    )
    notes = [
        f"files: {csv_path.stat().st_size / 1e6:.0f} MB of UTF-8 CSV and "
        f"{xlsx_path.stat().st_size / 1e6:.0f} MB of XLSX, {args.rows:,} rows x 10 "
        f"columns; generation: {generated}",
        f"CSV read by the Polars fast path: {'yes' if csv['fast_path'] else 'no'}",
        "the XLSX workbook contains its text as shared strings, as Excel saves "
        f"it; read by the Polars grid path: {_grid_path_fact(xlsx)}",
        "govchain findings: "
        + ", ".join(f"{k} {v}" for k, v in csv["findings"].items()),
        "grades: " + ", ".join(f"{k} {v}" for k, v in csv["grades"].items()),
        f"1-minute load average {load_before:.2f} at the start and "
        f"{load_after:.2f} at the end (other jobs share the machine)",
        "each figure is one run; peak memory is ru_maxrss of the pipeline's process",
    ]
    rows = result_rows(args.rows, csv, xlsx, frictionless)
    print(render_table(rows))
    if args.record is not None:
        with args.record.open("a", encoding="utf-8") as out:
            out.write("\n" + render_record(args.rows, rows, notes))
        log(f"recorded in {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
