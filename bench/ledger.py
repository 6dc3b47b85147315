"""Measure the ledger: signature checks, commits, proofs and full verification.

Usage: `python bench/ledger.py [--quick] [--size N] [--record FILE]`

One run measures, in this order:

1. the raw Ed25519 verification rate of PyNaCl on one thread and on one
   thread per core, the ceiling for anything that checks every signature;
2. committed transactions per second through `Node.submit_bytes` on a fresh
   ledger (genesis only), with every signature checked and every block fsynced;
3. inclusion and consistency proof generation and verification on a ledger of
   `--size` transactions;
4. the rate of `verify_ledger` over that whole ledger;
5. committed transactions per second on top of that ledger.

Building the large ledger is set-up, not a measurement. Transactions are
signed in a process pool and committed through `Node` in blocks of
`BUILD_BLOCK` transactions into a temporary directory that the run deletes
at the end. bench/README.md explains the figures and docs/benchmarks.md keeps
the recorded runs.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import nacl.signing

import govchain.data
from govchain.crypto.keys import SigningKey
from govchain.ledger import merkle
from govchain.ledger.orderer import SoloOrderer
from govchain.ledger.store import LedgerStore
from govchain.ledger.transaction import sign_transaction
from govchain.ledger.verify import verify_ledger
from govchain.node import Node, NodeHome, init_node

FULL_SIZE = 1_000_000
QUICK_SIZE = 50_000
#: Transactions submitted for each commit-rate figure.
COMMIT_SAMPLE = 20_000
QUICK_COMMIT_SAMPLE = 10_000
#: Transactions per block while building the large ledger.
BUILD_BLOCK = 20_000
#: Transactions each process-pool task signs.
SIGN_CHUNK = 5_000
PROOF_SAMPLES = 1_000
RAW_VERIFY_SAMPLES = 20_000
RAW_ROUNDS = 3
#: Departments of the demo consortium that sign the benchmark transactions.
DEPARTMENTS = ("city-health", "city-cdc", "city-market", "tianhe-health")
PROOF_SEED = 20260302
#: The value `PRAGMA synchronous` returns for FULL.
SQLITE_SYNCHRONOUS_FULL = 2

COMMIT_TARGET = 10_000.0
COMMIT_AIM = 20_000.0
PROOF_GENERATION_TARGET_MS = 1.0
PROOF_VERIFICATION_TARGET_MS = 0.1
VERIFY_LEDGER_TARGET = 25_000.0

_T = TypeVar("_T")

DEMO_CONSORTIUM = Path(govchain.data.__file__).parent / "consortium" / "demo.toml"


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    measure: str
    figure: str
    baseline: str = "-"
    target: str = "-"
    result: str = "-"


def rate_row(
    measure: str, rate: float, baseline: str, target: float | None, aim: str = ""
) -> Row:
    if target is None:
        return Row(measure, f"{rate:,.0f} tx/s", baseline)
    verdict = "pass" if rate >= target else "miss"
    return Row(
        measure, f"{rate:,.0f} tx/s", baseline, f">= {target:,.0f}{aim}", verdict
    )


def latency_rows(
    measure: str, samples_ns: list[int], baseline_ns: list[int], target_ms: float
) -> list[Row]:
    """Return a median and a p99 row, each judged against `target_ms`."""
    rows = []
    for label, pick in (("median", _median), ("p99", _p99)):
        figure = pick(samples_ns) / 1e6
        baseline = pick(baseline_ns) / 1e6
        rows.append(
            Row(
                f"{measure}, {label}",
                f"{figure:.3f} ms",
                f"{baseline:.3f} ms",
                f"< {target_ms} ms",
                "pass" if figure < target_ms else "miss",
            )
        )
    return rows


def _median(samples: list[int]) -> float:
    return statistics.median(samples)


def _p99(samples: list[int]) -> float:
    ordered = sorted(samples)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- raw Ed25519 -------------------------------------------------------------


def raw_verify_rates(samples: int, threads: int) -> tuple[float, float]:
    """Return PyNaCl verifications per second on 1 thread and on `threads`.

    The messages are the signing bytes of benchmark transactions, so they have
    the size that the ledger verifies. Each rate is the best of `RAW_ROUNDS`
    rounds, because a ceiling should not count time lost to other processes.
    """
    key = SigningKey.generate()
    verify_key = nacl.signing.VerifyKey(key.public_key.raw)
    pairs = []
    for serial in range(samples):
        tx = sign_transaction(
            type="catalog.register",
            dept=DEPARTMENTS[0],
            key=key,
            nonce=serial + 1,
            payload=_payload(serial),
        )
        pairs.append((tx.signing_bytes(), tx.signature))

    def check(chunk: Sequence[tuple[bytes, bytes]]) -> None:
        for message, signature in chunk:
            verify_key.verify(message, signature)

    size = -(-samples // threads)
    chunks = [pairs[i : i + size] for i in range(0, samples, size)]
    single = parallel = 0.0
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(RAW_ROUNDS):
            start = time.perf_counter()
            check(pairs)
            single = max(single, samples / (time.perf_counter() - start))

            start = time.perf_counter()
            list(pool.map(check, chunks))
            parallel = max(parallel, samples / (time.perf_counter() - start))
    return single, parallel


# -- signing and committing ----------------------------------------------------


def _payload(serial: int) -> dict[str, object]:
    return {
        "title": f"benchmark resource {serial}",
        "description": "hospital bed occupancy by ward, updated every working day",
        "level": 1 + serial % 4,
        "sharing": "unconditional",
    }


@dataclass(frozen=True)
class SignTask:
    """A run of consecutive nonces for one department, signed in a worker."""

    dept: str
    seed: bytes
    first_nonce: int
    count: int
    first_serial: int


def sign_chunk(task: SignTask) -> list[bytes]:
    key = SigningKey(task.seed)
    return [
        sign_transaction(
            type="catalog.register",
            dept=task.dept,
            key=key,
            nonce=task.first_nonce + i,
            payload=_payload(task.first_serial + i),
        ).canonical_bytes()
        for i in range(task.count)
    ]


def sign_tasks(node: Node, count: int, serial: int) -> list[SignTask]:
    """Split `count` new transactions into tasks, round robin over departments.

    Each department's tasks carry increasing nonces and are listed in that
    order, so committing the tasks' results in list order applies them all.
    """
    next_nonce = {}
    for dept in DEPARTMENTS:
        state = node.store.get("nonce", dept)
        next_nonce[dept] = (state["last"] if state else 0) + 1
    tasks: list[SignTask] = []
    done = 0
    while done < count:
        dept = DEPARTMENTS[len(tasks) % len(DEPARTMENTS)]
        size = min(SIGN_CHUNK, count - done)
        seed = node.dept_keys[dept].seed()
        tasks.append(SignTask(dept, seed, next_nonce[dept], size, serial + done))
        next_nonce[dept] += size
        done += size
    return tasks


def signed_stream(
    pool: ProcessPoolExecutor, tasks: list[SignTask]
) -> Iterator[list[bytes]]:
    yield from pool.map(sign_chunk, tasks)


def presign(
    pool: ProcessPoolExecutor, node: Node, count: int, serial: int
) -> list[bytes]:
    datas: list[bytes] = []
    for chunk in signed_stream(pool, sign_tasks(node, count, serial)):
        datas.extend(chunk)
    return datas


def commit_rate(node: Node, datas: list[bytes]) -> tuple[float, float]:
    """Submit `datas` through the node and return committed transactions per
    second and the calling thread's CPU time per transaction in microseconds.
    The calling thread commits blocks of the orderer's batch size.

    The CPU time leaves out the check processes. It varies less than the rate
    when other processes share the machine, so it compares two versions better.
    """
    synchronous = node.store.db.execute("PRAGMA synchronous").fetchone()[0]
    if synchronous != SQLITE_SYNCHRONOUS_FULL:
        raise RuntimeError(
            f"the ledger runs with PRAGMA synchronous={synchronous}, not FULL "
            f"({SQLITE_SYNCHRONOUS_FULL}), so its blocks are not durable and the "
            "commit figure would not count"
        )
    # A node starts its check processes once, on its first large batch. The
    # figure is the steady commit rate, so they start before the clock does.
    node.applier.start_workers()
    start = time.perf_counter()
    cpu_start = time.thread_time()
    waiters = node.submit_bytes(datas)
    while node.commit_next(timeout=0):
        pass
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu_start
    rejected = [w for w in waiters if w.receipt is None or not w.receipt.applied]
    if rejected:
        raise RuntimeError(
            f"{len(rejected)} of {len(datas)} benchmark transactions were not "
            "applied, so their nonces or payloads are invalid: fix sign_tasks"
        )
    return len(datas) / elapsed, cpu / len(datas) * 1e6


def build_ledger(
    pool: ProcessPoolExecutor, home: NodeHome, size: int
) -> tuple[float, float]:
    """Create `home` and fill it up to `size` transactions.

    Returns the seconds the build took and how many of them went to committing.
    """
    start = time.perf_counter()
    node = init_node(home, DEMO_CONSORTIUM, encrypt=False)
    node.close()
    orderer = SoloOrderer(max_batch=BUILD_BLOCK, max_wait=0)
    committing = 0.0
    with Node(home, orderer=orderer) as node:
        pending: list[bytes] = []
        tasks = sign_tasks(node, size - node.store.log_size(), serial=0)
        for chunk in signed_stream(pool, tasks):
            pending.extend(chunk)
            if len(pending) >= BUILD_BLOCK:
                committing += _commit_untimed(node, pending)
                pending = []
                log(f"  built {node.store.log_size():,} of {size:,} transactions")
        if pending:
            committing += _commit_untimed(node, pending)
    return time.perf_counter() - start, committing


def _commit_untimed(node: Node, datas: list[bytes]) -> float:
    start = time.perf_counter()
    node.submit_bytes(datas)
    while node.commit_next(timeout=0):
        pass
    return time.perf_counter() - start


# -- proofs ------------------------------------------------------------------


def proof_rows(store: LedgerStore, samples: int) -> list[Row]:
    size = store.log_size()
    rng = random.Random(PROOF_SEED)
    memory = merkle.MemoryNodeStore(
        bytes(row[0])
        for row in store.db.execute(
            "SELECT hash FROM merkle_nodes WHERE level = 0 ORDER BY idx"
        )
    )
    root = merkle.tree_root(store, size)
    inclusion: dict[str, list[int]] = {k: [] for k in _PROOF_KEYS}
    consistency: dict[str, list[int]] = {k: [] for k in _PROOF_KEYS}
    for _ in range(samples):
        index = rng.randrange(size)
        leaf = store.node(0, index)
        proof = _timed(
            inclusion["generate"], merkle.inclusion_proof, store, index, size
        )
        _timed(inclusion["memory"], merkle.inclusion_proof, memory, index, size)
        _timed(
            inclusion["verify"], merkle.verify_inclusion, leaf, index, size, proof, root
        )
        _timed(inclusion["hashing"], _hash_only, len(proof))

        size1 = rng.randrange(1, size)
        root1 = merkle.tree_root(store, size1)
        proof = _timed(
            consistency["generate"], merkle.consistency_proof, store, size1, size
        )
        _timed(consistency["memory"], merkle.consistency_proof, memory, size1, size)
        _timed(
            consistency["verify"],
            merkle.verify_consistency,
            size1,
            size,
            proof,
            root1,
            root,
        )
        # Verifying a consistency proof hashes along two paths.
        _timed(consistency["hashing"], _hash_only, 2 * len(proof))
    rows = []
    for name, times in (("inclusion", inclusion), ("consistency", consistency)):
        rows += latency_rows(
            f"{name} proof generation",
            times["generate"],
            times["memory"],
            PROOF_GENERATION_TARGET_MS,
        )
        rows += latency_rows(
            f"{name} proof verification",
            times["verify"],
            times["hashing"],
            PROOF_VERIFICATION_TARGET_MS,
        )
    return rows


_PROOF_KEYS = ("generate", "memory", "verify", "hashing")
_NODE = bytes(32)


def _hash_only(count: int) -> None:
    for _ in range(count):
        hashlib.sha256(b"\x01" + _NODE + _NODE).digest()


def _timed(times: list[int], fn: Callable[..., _T], *args: object) -> _T:
    start = time.perf_counter_ns()
    result = fn(*args)
    times.append(time.perf_counter_ns() - start)
    return result


# -- the machine and the record ------------------------------------------------


def machine_facts() -> list[tuple[str, str]]:
    """Return what the figures depend on, as (name, value) pairs."""
    return [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} (usable by this process: {_usable_cores()})"),
        ("RAM", f"{_ram_gib():.1f} GiB"),
        ("OS", f"{_os_name()}, kernel {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("PyNaCl", metadata.version("pynacl")),
        ("SQLite", sqlite3.sqlite_version),
        ("temporary directory", _temp_filesystem()),
        ("govchain commit", _git_commit()),
    ]


def _cpu_model() -> str:
    for line in _read_lines("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0))


def _ram_gib() -> float:
    for line in _read_lines("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _os_name() -> str:
    for line in _read_lines("/etc/os-release"):
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return platform.system()


def _temp_filesystem() -> str:
    """Return the temporary directory and the filesystem it is on, which sets
    what an fsync costs.
    """
    directory = os.path.realpath(tempfile.gettempdir())
    best = ("", "unknown")
    for line in _read_lines("/proc/mounts"):
        fields = line.split()
        if len(fields) < 3:
            continue
        mount, kind = fields[1], fields[2]
        inside = directory == mount or directory.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) > len(best[0]):
            best = (mount, kind)
    return f"{directory} ({best[1]})"


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


def command_line() -> str:
    python = os.path.relpath(sys.executable)
    if python.startswith(".."):
        python = sys.executable
    return " ".join([python, *sys.argv])


def render_table(rows: list[Row]) -> str:
    lines = [
        "| Measure | Figure | Baseline | Target | Result |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.measure} | {row.figure} | {row.baseline} | {row.target} "
            f"| {row.result} |"
        )
    return "\n".join(lines)


def render_record(
    *,
    size: int,
    quick: bool,
    facts: list[tuple[str, str]],
    notes: list[str],
    rows: list[Row],
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    scale = "quick run" if quick else "full run"
    lines = [f"## {stamp}: {size:,} transactions ({scale})", ""]
    lines.append(f"Command: `{command_line()}`")
    lines.append("")
    lines += [f"- {name}: {value}" for name, value in facts]
    lines += [f"- {note}" for note in notes]
    lines += ["", render_table(rows), ""]
    return "\n".join(lines)


def append_record(path: Path, record: str) -> None:
    if not path.exists():
        path.write_text(RECORD_HEADER, encoding="utf-8")
    with path.open("a", encoding="utf-8") as out:
        out.write("\n" + record)


RECORD_HEADER = """# Benchmark records

Runs of `bench/ledger.py`, oldest first. bench/README.md describes how each
figure is measured and what its baseline is.
"""


# -- the run -------------------------------------------------------------------


def run(size: int, sample: int, cores: int) -> tuple[list[Row], list[str]]:
    """Measure every figure and return the table rows and notes on the set-up."""
    rows: list[Row] = []
    notes: list[str] = []

    log("Ed25519 verification with PyNaCl")
    single, parallel = raw_verify_rates(RAW_VERIFY_SAMPLES, cores)
    rows.append(Row("Ed25519 verifications, PyNaCl, 1 thread", f"{single:,.0f}/s"))
    rows.append(
        Row(f"Ed25519 verifications, PyNaCl, {cores} threads", f"{parallel:,.0f}/s")
    )
    ceiling = f"{parallel:,.0f}/s Ed25519"

    with (
        tempfile.TemporaryDirectory(prefix="govchain-bench-") as tmp,
        ProcessPoolExecutor(cores) as pool,
    ):
        log(f"committing {sample:,} transactions to a fresh ledger")
        with init_node(
            NodeHome(Path(tmp) / "fresh"), DEMO_CONSORTIUM, encrypt=False
        ) as node:
            datas = presign(pool, node, sample, serial=0)
            fresh, fresh_cpu = commit_rate(node, datas)
        rows.append(
            rate_row(
                "committed tx/s, fresh ledger (genesis only)",
                fresh,
                ceiling,
                COMMIT_TARGET,
                f" (aim {COMMIT_AIM:,.0f})",
            )
        )

        log(f"building a ledger of {size:,} transactions (set-up)")
        home = NodeHome(Path(tmp) / "large")
        built, committing = build_ledger(pool, home, size)
        notes.append(
            f"set-up: built the {size:,}-transaction ledger in {built:,.0f} s, "
            f"{committing:,.0f} s of it committing blocks of {BUILD_BLOCK:,} "
            f"(about {(size - 1) / committing:,.0f} tx/s)"
        )

        with Node(home) as node:
            log(f"{PROOF_SAMPLES:,} inclusion and consistency proofs")
            rows += proof_rows(node.store, PROOF_SAMPLES)

            log("verify_ledger over the whole ledger")
            start = time.perf_counter()
            cpu_start = time.thread_time()
            report = verify_ledger(node.store, workers=cores)
            elapsed = time.perf_counter() - start
            verify_cpu = (time.thread_time() - cpu_start) / report.transactions * 1e6
            if not report.ok:
                raise RuntimeError(
                    f"the built ledger fails verification: {report.problem}"
                )
            rows.append(
                rate_row(
                    f"verify_ledger, {report.transactions:,} tx",
                    report.transactions / elapsed,
                    ceiling,
                    VERIFY_LEDGER_TARGET,
                )
            )

            log(f"committing {sample:,} transactions on top of {size:,}")
            datas = presign(pool, node, sample, serial=size)
            large, large_cpu = commit_rate(node, datas)
        rows.append(
            rate_row(
                f"committed tx/s, {size:,} tx already",
                large,
                ceiling,
                COMMIT_TARGET,
                f" (aim {COMMIT_AIM:,.0f})",
            )
        )
    notes.append(
        f"committing thread's CPU time per transaction, check processes left "
        f"out: {fresh_cpu:.0f} us on the fresh ledger, {large_cpu:.0f} us on "
        f"{size:,}; verify_ledger's thread: {verify_cpu:.0f} us"
    )
    notes.append(
        f"commit figures: {sample:,} pre-signed transactions per figure, "
        "submitted through Node.submit_bytes and committed by the calling thread "
        "in blocks of the solo orderer's default batch size, each fsynced"
    )
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"build {QUICK_SIZE:,} transactions instead of {FULL_SIZE:,}",
    )
    parser.add_argument(
        "--size", type=int, help="transactions in the large ledger (overrides --quick)"
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="append the machine, the command and the table to FILE (Markdown)",
    )
    args = parser.parse_args(argv)
    size = args.size or (QUICK_SIZE if args.quick else FULL_SIZE)
    if size < 2:
        parser.error("--size must be at least 2: the genesis transaction and one more")
    sample = QUICK_COMMIT_SAMPLE if args.quick else COMMIT_SAMPLE
    cores = _usable_cores()
    logging.basicConfig(level=logging.ERROR)

    facts = machine_facts()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    rows, notes = run(size, sample, cores)
    notes.append(
        f"run time {time.perf_counter() - started:,.0f} s; 1-minute load average "
        f"{load_before:.2f} at the start and {os.getloadavg()[0]:.2f} at the end"
    )
    print(render_table(rows))
    for note in notes:
        print(f"- {note}")
    if args.record is not None:
        record = render_record(
            size=size, quick=args.quick, facts=facts, notes=notes, rows=rows
        )
        append_record(args.record, record)
        log(f"recorded in {args.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
