"""Measure the desensitization operators in rows per second.

Usage: `python bench/desensitize.py [--rows N] [--rounds R]`

The run builds a table of `--rows` synthetic people (1,000,000 by default)
with Polars expressions. Each has a name, an ID number with a valid GB 11643
check character, a mobile number, a birth date, an age, an address, a region
code and a free-text remark that contains the ID and the phone number. Every ID is distinct
(up to 21,900,000 rows), so the pseudonymizer computes one HMAC per row.

Each operator runs on its column `--rounds` times and the best round is
reported. The baseline is a plain Polars copy of the same column, which
writes every value once and does nothing else. The table goes to stdout and
progress to stderr. These are figures only: nothing is judged pass or fail.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial

import polars as pl

from govchain.governance import (
    DEFAULT_POLICY,
    GeneralizeAddress,
    GeneralizeAge,
    GeneralizeDate,
    GeneralizeRegion,
    Mask,
    MaskName,
    Operator,
    Pseudonymize,
    ScrubText,
    apply_policy,
    measure_k,
)

DEFAULT_ROWS = 1_000_000
DEFAULT_ROUNDS = 3
MASTER_KEY = bytes(range(32))
CONSUMER = "city-health"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SURNAMES = [*"王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "欧阳", "司马"]
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂")
_DISTRICTS = {
    "440104": "广东省广州市越秀区",
    "440106": "广东省广州市天河区",
    "110105": "北京市朝阳区",
    "310115": "上海市浦东新区",
    "510104": "四川省成都市锦江区",
}
_ROADS = list("中山解放人民建设和平新华胜利文化")
#: Birth dates span this many days from 1950-01-01.
_DAYS = 21_900


def _pick(index: pl.Expr, seed: int, choices: Sequence[str]) -> pl.Expr:
    """Pick one of `choices` per row, pseudo-randomly but the same each run."""
    position = (index.hash(seed) % len(choices)).cast(pl.Int64)
    return position.replace_strict(list(range(len(choices))), list(choices))


def _number(index: pl.Expr, seed: int, below: int, width: int) -> pl.Expr:
    """Return a zero-padded number below `below`, as text of `width` digits."""
    value = (index.hash(seed) % below).cast(pl.String)
    return value.str.zfill(width)


def build_people(rows: int) -> pl.DataFrame:
    """Return `rows` synthetic people with distinct, valid ID numbers."""
    index = pl.int_range(rows, dtype=pl.Int64)
    region = _pick(index, 1, list(_DISTRICTS))
    # Rows 1000n to 1000n + 999 share a birth date and take the sequence
    # numbers 000 to 999, and each block gets another of 21,900 dates (60
    # years), so IDs are distinct for up to 21,900,000 rows.
    stride = max(1, _DAYS // max(1, -(-rows // 1000)))
    born = pl.date(1950, 1, 1) + pl.duration(days=(index // 1000 * stride) % _DAYS)
    first17 = pl.concat_str(
        region, born.dt.strftime("%Y%m%d"), (index % 1000).cast(pl.String).str.zfill(3)
    )
    total = pl.sum_horizontal(
        first17.str.slice(i, 1).cast(pl.Int64) * weight
        for i, weight in enumerate(_WEIGHTS)
    )
    check = (total % 11).replace_strict(list(range(11)), list(_CHECK))

    phone = pl.concat_str(
        pl.lit("1"), _pick(index, 3, "3456789"), _number(index, 4, 10**9, 9)
    )

    frame = pl.select(
        姓名=pl.concat_str(
            _pick(index, 5, _SURNAMES), _pick(index, 6, _GIVEN), _pick(index, 7, _GIVEN)
        ),
        身份证号=pl.concat_str(first17, check),
        手机号=phone,
        出生日期=born.dt.strftime("%Y-%m-%d"),
        年龄=(2026 - born.dt.year()).cast(pl.Int64),
        住址=pl.concat_str(
            region.replace_strict(_DISTRICTS),
            _pick(index, 8, _ROADS),
            pl.lit("路"),
            _number(index, 9, 999, 1),
            pl.lit("号"),
        ),
        行政区划代码=region,
    )
    remark = pl.concat_str(
        pl.lit("联系人身份证"), pl.col("身份证号"), pl.lit("，电话"), pl.col("手机号")
    )
    return frame.with_columns(备注=remark)


def best_seconds(work: Callable[[], object], rounds: int) -> float:
    """Run `work` `rounds` times and return the shortest wall time in seconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def copy_column(series: pl.Series) -> pl.Series:
    """Copy every value of a string column into a new column."""
    return (
        series.to_frame()
        .select(pl.concat_str(pl.col(series.name), pl.lit("")))
        .to_series()
    )


def measure(people: pl.DataFrame, rounds: int) -> list[tuple[str, str, float, float]]:
    """Return (measure, column, seconds, baseline seconds) for every figure."""
    key_bound = Pseudonymize().for_consumer(MASTER_KEY, CONSUMER)
    cases: list[tuple[str, str, Operator]] = [
        ("mask ID number (6+4)", "身份证号", Mask.id_number()),
        ("mask phone (3+4)", "手机号", Mask.phone()),
        ("mask name (surname)", "姓名", MaskName()),
        ("scrub free text", "备注", ScrubText()),
        ("pseudonymize ID (HMAC)", "身份证号", key_bound),
        ("birth date to year", "出生日期", GeneralizeDate("year")),
        ("age to bands", "年龄", GeneralizeAge()),
        ("address to district", "住址", GeneralizeAddress()),
        ("region code to city", "行政区划代码", GeneralizeRegion("city")),
    ]
    results = []
    for label, column, operator in cases:
        print(f"measuring {label}", file=sys.stderr, flush=True)
        series = people.get_column(column)
        text = series.cast(pl.String)
        baseline = best_seconds(partial(copy_column, text), rounds)
        seconds = best_seconds(partial(operator.apply, series), rounds)
        results.append((label, column, seconds, baseline))

    text_columns = people.select(pl.all().cast(pl.String))
    baseline = best_seconds(
        lambda: text_columns.select(
            pl.concat_str(pl.col(c), pl.lit("")) for c in text_columns.columns
        ),
        rounds,
    )
    for level in (2, 3):
        print(
            f"measuring the default policy at level {level}",
            file=sys.stderr,
            flush=True,
        )
        work = partial(
            apply_policy,
            people,
            DEFAULT_POLICY,
            field_levels=dict.fromkeys(people.columns, level),
            consumer=CONSUMER,
            master_key=MASTER_KEY,
            allowed=set(),
        )
        seconds = best_seconds(work, rounds)
        results.append(
            (f"default policy, level {level}", f"all {people.width}", seconds, baseline)
        )

    generalized = people.select(
        GeneralizeAge().apply(people["年龄"]),
        GeneralizeRegion("city").apply(people["行政区划代码"]),
    )
    print("measuring k-anonymity", file=sys.stderr, flush=True)
    seconds = best_seconds(
        lambda: measure_k(generalized, ["年龄", "行政区划代码"], target_k=5), rounds
    )
    results.append(("measure k (2 quasi-identifiers)", "年龄, 区划", seconds, baseline))
    return results


def render(rows: int, results: list[tuple[str, str, float, float]]) -> str:
    """Return the results as a text table, the column last because CJK is wide."""
    header = f"{'measure':<32} {'rows/s':>12} {'copy rows/s':>12} {'x copy':>7}  column"
    lines = [header]
    for label, column, seconds, baseline in results:
        lines.append(
            f"{label:<32} {rows / seconds:>12,.0f} {rows / baseline:>12,.0f} "
            f"{seconds / baseline:>7.1f}  {column}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=DEFAULT_ROWS, help="rows in the table"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help="runs per figure; the best counts",
    )
    args = parser.parse_args(argv)
    print(f"building {args.rows:,} synthetic people", file=sys.stderr, flush=True)
    people = build_people(args.rows)
    results = measure(people, args.rounds)
    print(
        f"{args.rows:,} rows, best of {args.rounds}; Python {platform.python_version()}, "
        f"Polars {pl.__version__}, {os.cpu_count()} cores, {platform.machine()}"
    )
    print(render(args.rows, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
