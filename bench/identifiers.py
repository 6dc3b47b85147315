"""Measure the identifier checks: Polars columns against a Python loop.

Usage: `python bench/identifiers.py [--size N] [--sample N]`

Builds `--size` resident ID numbers and as many unified social credit codes
(fixed seed; about 5% corrupted by one changed character) and prints, for
each format, the rate of:

1. the column check of `govchain.identifiers.vectorised`, best of 3 runs
   over all `--size` values;
2. a Python loop calling the one-value `is_valid` over the first `--sample`
   values, the baseline;
3. the same loop over python-stdnum's `is_valid` when python-stdnum is
   installed. Its resident ID check also rejects many valid IDs and raises
   KeyError on some region codes, so this is a speed figure only.

Figures only: nothing here asserts a speed. Generating the values is set-up
and is not timed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import platform
import random
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl

from govchain.identifiers import vectorised
from govchain.identifiers.cn import region, ric, uscc

TODAY = date(2026, 1, 1)


def make_ids(count: int, rng: random.Random) -> list[str]:
    codes = sorted(region.known_codes())
    values = []
    for _ in range(count):
        body = (
            f"{rng.choice(codes)}{rng.randint(1940, 2020)}"
            f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        )
        values.append(corrupt(body + ric.calc_check_char(body), rng))
    return values


def make_usccs(count: int, rng: random.Random) -> list[str]:
    codes = sorted(region.current_codes())
    values = []
    for _ in range(count):
        organisation = "".join(rng.choices(uscc.ALPHABET, k=8))
        body = "91" + rng.choice(codes) + organisation
        body += uscc.calc_organisation_check_char(organisation)
        values.append(corrupt(body + uscc.calc_check_char(body), rng))
    return values


def corrupt(value: str, rng: random.Random) -> str:
    if rng.random() >= 0.05:
        return value
    index = rng.randrange(len(value))
    return value[:index] + rng.choice("0123456789") + value[index + 1 :]


def best_of(runs: int, work: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def loop_rate(is_valid: Callable[[str], Any], values: list[str]) -> float:
    def work() -> None:
        for value in values:
            # python-stdnum 2.2 raises KeyError on some region codes.
            with contextlib.suppress(KeyError):
                is_valid(value)

    return len(values) / best_of(1, work)


def stdnum_validator(name: str) -> Callable[[str], Any] | None:
    try:
        module = importlib.import_module(f"stdnum.cn.{name}")
    except ImportError:
        return None
    check: Callable[[str], Any] = module.is_valid
    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="values per format")
    parser.add_argument(
        "--sample", type=int, default=100_000, help="values for the Python loops"
    )
    args = parser.parse_args()
    rng = random.Random(20260101)
    ids, codes = make_ids(args.size, rng), make_usccs(args.size, rng)
    region.known_codes()  # read the table before any timing

    print(
        f"# {args.size:,} values per format; Python {platform.python_version()}, "
        f"Polars {pl.__version__}, {os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'format':<16}{'method':<34}{'values/s':>14}{'s per 1M':>10}")
    rows: list[tuple[str, str, float]] = []
    for name, values, column_check, one_value, stdnum_name in (
        (
            "cn-resident-id",
            ids,
            lambda s: vectorised.check_resident_id(s, today=TODAY),
            lambda v: ric.is_valid(v, today=TODAY),
            "ric",
        ),
        ("cn-uscc", codes, vectorised.check_uscc, uscc.is_valid, "uscc"),
    ):
        series = pl.Series(values)
        column_check(series[:1000])
        seconds = best_of(3, functools.partial(column_check, series))
        rows.append((name, "vectorised (Polars), best of 3", len(values) / seconds))
        sample = values[: args.sample]
        rows.append((name, "Python loop, is_valid", loop_rate(one_value, sample)))
        theirs = stdnum_validator(stdnum_name)
        if theirs is not None:
            rows.append(
                (name, "python-stdnum loop, is_valid", loop_rate(theirs, sample))
            )
    for name, method, rate in rows:
        print(f"{name:<16}{method:<34}{rate:>14,.0f}{1_000_000 / rate:>10.2f}")


if __name__ == "__main__":
    main()
