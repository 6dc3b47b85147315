"""Measure the web console: server time of its busiest pages on a large ledger.

Usage: `python bench/console.py [--quick] [--resources N] [--transactions N]
[--record FILE]`

The run builds a ledger of `--transactions` transactions (1,000,000 by
default) of which `--resources` (100,000) register catalog resources and the
rest update them, serves it with the real application on 127.0.0.1, logs in
as an auditor and times, over HTTP:

1. the overview page, the catalog search (a keyword and a filter) and the
   audit trail page (unfiltered and for one resource), each requested
   `SAMPLES` times in a row, as median and p95;
2. the catalog searches a second per thread sustains with `LOAD_THREADS`
   client threads for `LOAD_SECONDS` seconds.

The overview and the catalog's filter lists reuse whole-ledger figures until
the log grows, so the first request of each is timed on its own, next to the
time the figures alone took. The baseline of each page time is the login
page measured the same way: the same server, HTTP and template rendering
without any ledger reads. The
target is 300 ms at p95 for each page. Building the ledger is set-up, not a
measurement. The ledger is written to a temporary directory, which the run
deletes at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ledger import (
    BUILD_BLOCK,
    DEMO_CONSORTIUM,
    DEPARTMENTS,
    Row,
    command_line,
    log,
    machine_facts,
    render_table,
)
from govchain.api import create_app
from govchain.console.users import UserStore
from govchain.crypto.keys import SigningKey
from govchain.ledger.orderer import SoloOrderer
from govchain.ledger.transaction import sign_transaction
from govchain.node import Node, NodeHome, init_node

FULL_RESOURCES = 100_000
FULL_TRANSACTIONS = 1_000_000
QUICK_RESOURCES = 10_000
QUICK_TRANSACTIONS = 100_000
SIGN_CHUNK = 5_000
SAMPLES = 30
LOAD_THREADS = 4
LOAD_SECONDS = 10.0
TARGET_P95_MS = 300.0
CATEGORIES = ("health", "education", "transport", "finance", "housing", "culture")
#: One resource title in `KEYWORD_EVERY` carries the search keyword.
KEYWORD = "床位"
KEYWORD_EVERY = 100
PASSWORD = "benchmark-password"


@dataclass(frozen=True)
class SignTask:
    """Consecutive nonces of one department: registrations or updates."""

    dept: str
    seed: bytes
    first_nonce: int
    first: int
    count: int
    kind: str
    owned: int


def _resource_id(dept: str, number: int) -> str:
    return f"bench-{dept}-{number:06d}"


def sign_chunk(task: SignTask) -> list[bytes]:
    key = SigningKey(task.seed)
    out = []
    for i in range(task.count):
        number = task.first + i
        if task.kind == "register":
            word = KEYWORD if number % KEYWORD_EVERY == 0 else "统计"
            tx_type = "catalog.register"
            payload: dict[str, object] = {
                "id": _resource_id(task.dept, number),
                "title": f"{word}数据 {number}",
                "description": "benchmark resource for the console pages",
                "category": CATEGORIES[number % len(CATEGORIES)],
                "level": 1 + number % 4,
                "sharing": ("unconditional", "conditional")[number % 2],
            }
        else:
            tx_type = "catalog.update"
            payload = {
                "resource": _resource_id(task.dept, number % task.owned),
                "description": f"revision {number}",
            }
        out.append(
            sign_transaction(
                type=tx_type,
                dept=task.dept,
                key=key,
                nonce=task.first_nonce + i,
                payload=payload,
            ).canonical_bytes()
        )
    return out


def sign_tasks(node: Node, resources: int, updates: int) -> list[SignTask]:
    """Split the work round robin over departments, registrations first."""
    per_dept = resources // len(DEPARTMENTS)
    nonce = {}
    for dept in DEPARTMENTS:
        state = node.store.get("nonce", dept)
        nonce[dept] = (state["last"] if state else 0) + 1
    tasks: list[SignTask] = []
    for kind, total in (
        ("register", per_dept),
        ("update", updates // len(DEPARTMENTS)),
    ):
        for start in range(0, total, SIGN_CHUNK):
            for dept in DEPARTMENTS:
                count = min(SIGN_CHUNK, total - start)
                seed = node.dept_keys[dept].seed()
                tasks.append(
                    SignTask(dept, seed, nonce[dept], start, count, kind, per_dept)
                )
                nonce[dept] += count
    return tasks


def build(home: NodeHome, resources: int, transactions: int, cores: int) -> float:
    """Create `home` with the benchmark ledger; return the seconds it took."""
    start = time.perf_counter()
    init_node(home, DEMO_CONSORTIUM, encrypt=False).close()
    orderer = SoloOrderer(max_batch=BUILD_BLOCK, max_wait=0)
    with Node(home, orderer=orderer) as node, ProcessPoolExecutor(cores) as pool:
        updates = max(0, transactions - resources - node.store.log_size())
        pending: list[bytes] = []
        for chunk in pool.map(sign_chunk, sign_tasks(node, resources, updates)):
            pending.extend(chunk)
            if len(pending) >= BUILD_BLOCK:
                _commit(node, pending)
                pending = []
                log(f"  built {node.store.log_size():,} transactions")
        if pending:
            _commit(node, pending)
        log(f"  built {node.store.log_size():,} transactions")
    return time.perf_counter() - start


def _commit(node: Node, datas: list[bytes]) -> None:
    waiters = node.submit_bytes(datas)
    while node.commit_next(timeout=0):
        pass
    rejected = [w for w in waiters if w.receipt is None or not w.receipt.applied]
    if rejected:
        first = rejected[0].receipt
        raise RuntimeError(
            f"{len(rejected)} benchmark transactions were rejected, the first with "
            f"{first.reason if first else 'no receipt'}: fix sign_tasks"
        )


def serve(node: Node) -> tuple[FastAPI, str, Callable[[], None]]:
    sock = socket.create_server(("127.0.0.1", 0))
    app = create_app(node)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join()
        sock.close()

    return app, f"http://127.0.0.1:{sock.getsockname()[1]}", stop


def logged_in(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    form = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("the login page has no form token")
    done = client.post(
        "/console/login",
        data={"username": "bench", "password": PASSWORD, "csrf": token[1]},
    )
    if done.status_code != 303:
        raise RuntimeError(f"login failed with status {done.status_code}")
    return client


def times_ms(client: httpx.Client, path: str, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} returned {response.status_code}")
    return out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def cold_rows(client: httpx.Client, app: FastAPI) -> list[Row]:
    """Time the first overview and catalog requests, which compute the figures
    that later requests reuse (see `govchain.console._cache`)."""
    rows = []
    for name, path, cache in (
        ("overview", "/console/overview", "overview"),
        ("catalog search", "/console/catalog", "catalog-choices"),
    ):
        log(f"timing the first {name} request")
        first = times_ms(client, path, 1)[0]
        snapshot = app.state.console.caches[cache].get(app.state.govchain)
        rows.append(
            Row(
                f"{name}: first request, computing its whole-ledger figures",
                f"{first:.0f} ms",
                f"figures alone {snapshot.seconds * 1000:.0f} ms",
                "-",
                "-",
            )
        )
    return rows


def page_rows(client: httpx.Client, resource: str) -> list[Row]:
    pages = [
        ("overview", "/console/overview"),
        ("catalog search, keyword", f"/console/catalog?keyword={KEYWORD}"),
        (
            "catalog search, department and level",
            f"/console/catalog?department={DEPARTMENTS[1]}&level=3",
        ),
        ("audit trail, unfiltered", "/console/audit"),
        ("audit trail, one resource", f"/console/audit?resource={resource}"),
    ]
    floor = times_ms(client, "/console/login", SAMPLES)
    baseline = f"{statistics.median(floor):.1f} / {p95(floor):.1f} ms"
    rows = []
    for name, path in pages:
        log(f"timing {name}")
        times_ms(client, path, 2)
        samples = times_ms(client, path, SAMPLES)
        figure = p95(samples)
        rows.append(
            Row(
                f"{name}: median / p95",
                f"{statistics.median(samples):.1f} / {figure:.1f} ms",
                baseline,
                f"p95 < {TARGET_P95_MS:.0f} ms",
                "pass" if figure < TARGET_P95_MS else "miss",
            )
        )
    return rows


def load_row(url: str) -> Row:
    """Run catalog searches from `LOAD_THREADS` threads; return the rate."""
    clients = [logged_in(url) for _ in range(LOAD_THREADS)]
    done = [0] * LOAD_THREADS
    deadline = time.perf_counter() + LOAD_SECONDS

    def hammer(i: int) -> None:
        while time.perf_counter() < deadline:
            clients[i].get(f"/console/catalog?keyword={KEYWORD}&level={1 + i % 4}")
            done[i] += 1

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(LOAD_THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    for client in clients:
        client.close()
    return Row(
        f"catalog searches per second, {LOAD_THREADS} client threads",
        f"{sum(done) / elapsed:.1f}/s",
    )


def run(resources: int, transactions: int, cores: int) -> tuple[list[Row], list[str]]:
    notes = []
    with tempfile.TemporaryDirectory(prefix="govchain-bench-console-") as tmp:
        home = NodeHome(Path(tmp) / "home")
        log(f"building {transactions:,} transactions, {resources:,} resources (set-up)")
        built = build(home, resources, transactions, cores)
        notes.append(f"set-up: built the ledger in {built:,.0f} s")
        UserStore.of_home(home.path).add("bench", PASSWORD, "auditor", "city-bdb")
        with Node(home) as node:
            node.start()
            size = node.store.log_size()
            notes.append(
                f"ledger: {size:,} transactions, {resources:,} resources "
                f"registered by {len(DEPARTMENTS)} departments, the rest updates"
            )
            app, url, stop = serve(node)
            try:
                client = logged_in(url)
                rows = cold_rows(client, app)
                rows += page_rows(client, _resource_id(DEPARTMENTS[0], 0))
                client.close()
                log("catalog search under load")
                rows.append(load_row(url))
            finally:
                stop()
    notes.append(
        f"each page: {SAMPLES} sequential requests after 2 warm-up requests, one "
        "logged-in client over HTTP on 127.0.0.1; baseline: the login page the same way"
    )
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10,000 resources, 100,000 tx"
    )
    parser.add_argument("--resources", type=int, help="resources to register")
    parser.add_argument("--transactions", type=int, help="transactions in the ledger")
    parser.add_argument("--record", type=Path, metavar="FILE", help="append to FILE")
    args = parser.parse_args(argv)
    resources = args.resources or (QUICK_RESOURCES if args.quick else FULL_RESOURCES)
    transactions = args.transactions or (
        QUICK_TRANSACTIONS if args.quick else FULL_TRANSACTIONS
    )
    cores = len(os.sched_getaffinity(0))
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    rows, notes = run(resources, transactions, cores)
    notes.append(
        f"run time {time.perf_counter() - started:,.0f} s; 1-minute load average "
        f"{load_start:.2f} at the start and {os.getloadavg()[0]:.2f} at the end"
    )
    table = render_table(rows)
    print(table)
    if args.record is not None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"## {stamp}: console pages, {resources:,} resources, "
            f"{transactions:,} transactions",
            "",
            f"Command: `{command_line()}`",
            "",
        ]
        lines += [f"- {name}: {value}" for name, value in machine_facts()]
        lines += [f"- {note}" for note in notes]
        lines += ["", table, ""]
        with args.record.open("a", encoding="utf-8") as out:
            out.write("\n" + "\n".join(lines))
        log(f"recorded in {args.record}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
