"""Benchmark of electronic certificates: issuance, offline verification, QR decoding
and the online status endpoint.

Usage: `python bench/certificates.py [--count N] [--record FILE]`

Each figure is printed next to a baseline measured in the same run and the
target for 2 cores:

- issued per second: `CertificateService.issue` on a fresh node home. It signs
  each certificate (Ed25519, COSE_Sign1, zlib, base45) and records them on the
  ledger in batches, without images. Baseline: bare Ed25519 signatures; target
  at least 5,000/s;
- offline verifications per second from QR text (`verify_text` against the
  ledger's trust store, every step), in one process and split over two
  worker processes; baseline: bare Ed25519 verifications in one process;
  target at least 5,000/s;
- QR image decodes per second (`decode_image_bytes` on PNGs of issued
  certificates); baseline: opening the same PNGs with Pillow only;
- the status endpoint's p50 and p99 latency with requests sent at 500 per
  second for 10 s to a server in another process on 127.0.0.1; baseline:
  `/healthz` at the same pace; target p99 under 20 ms.

Everything binds to and talks to 127.0.0.1 only; the request loop is bounded in
count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing
import os
import platform
import socket
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nacl.signing
from PIL import Image

import govchain.data
from govchain.certs import (
    CertificateService,
    decode_image_bytes,
    qr_png,
    trust_from_state,
    verify_text,
)
from govchain.certs.registry import registry_records
from govchain.certs.trust import TrustStore, store_from_records
from govchain.node import NodeHome, init_node

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.certs.conftest import ISSUER, TEMPLATE, holders

RATE = 500
SECONDS = 10
CONNECTIONS = 32


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def best_rate(fn: Any, count: int, rounds: int = 3) -> float:
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = max(best, count / (time.perf_counter() - start))
    return best


def bare_ed25519(count: int) -> tuple[float, float]:
    key = nacl.signing.SigningKey.generate()
    message = os.urandom(300)
    signature = key.sign(message).signature
    verify_key = key.verify_key
    sign = best_rate(lambda: [key.sign(message) for _ in range(count)], count)
    check = best_rate(
        lambda: [verify_key.verify(message, signature) for _ in range(count)], count
    )
    return sign, check


def new_home(folder: Path) -> NodeHome:
    home = NodeHome(folder / "home")
    consortium = Path(govchain.data.__file__).parent / "consortium" / "demo.toml"
    node = init_node(home, consortium, encrypt=False)
    service = CertificateService(node)
    service.define_template(TEMPLATE)
    service.authorize_issuer(ISSUER, ["food-health"])
    service.create_key(ISSUER, not_before=int(time.time()) - 60)
    service.close()
    node.close()
    return home


def serve(home_path: str, port: int) -> None:
    import logging

    import uvicorn

    from govchain.api import create_app
    from govchain.node import Node

    logging.disable(logging.WARNING)
    node = Node(NodeHome(Path(home_path)))
    node.start()
    uvicorn.run(
        create_app(node),
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Connection:
    """One keep-alive HTTP/1.1 connection: a small client so that the client's
    own cost stays far below the server's (httpx costs about 1 ms a request)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, path: str) -> int:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


async def paced(port: int, paths: list[str]) -> list[float]:
    """Send GETs at `RATE` per second for `SECONDS`; return latencies in ms.

    Requests go out on schedule whether or not earlier ones have returned, over
    a pool of keep-alive connections, so a slow server shows as latency.
    """
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(Connection(*await asyncio.open_connection("127.0.0.1", port)))
    latencies: list[float] = []

    async def one(path: str, due: float) -> None:
        connection = await pool.get()
        try:
            status = await connection.get(path)
        finally:
            pool.put_nowait(connection)
        latencies.append((time.perf_counter() - due) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} returned {status}")

    tasks = []
    begin = time.perf_counter()
    for i in range(RATE * SECONDS):
        due = begin + i / RATE
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(paths[i % len(paths)], due)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().writer.close()
    return latencies


def wait_for(url: str, *, seconds: float) -> None:
    """Poll `url` until it returns 200, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not start within {seconds} s")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


_worker_trust: TrustStore | None = None


def _init_worker(records: dict[str, Any]) -> None:
    global _worker_trust
    _worker_trust = store_from_records(records, source="bench")


def _verify_chunk(task: tuple[list[str], int]) -> int:
    texts, now = task
    assert _worker_trust is not None
    return sum(verify_text(t, _worker_trust, at=now).valid for t in texts)


def parallel_verify_rate(texts: list[str], records: dict[str, Any], now: int) -> float:
    """Verify `texts` in two worker processes; return verifications per second."""
    chunks = [(texts[i::2], now) for i in range(2)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=_init_worker, initargs=(records,)
    ) as pool:
        list(pool.map(_verify_chunk, [(c[0][:50], now) for c in chunks]))
        best = 0.0
        for _ in range(3):
            start = time.perf_counter()
            valid = sum(pool.map(_verify_chunk, chunks))
            best = max(best, len(texts) / (time.perf_counter() - start))
            assert valid == len(texts)
    return best


def machine_facts() -> list[tuple[str, str]]:
    load = os.getloadavg()[0]
    return [
        ("CPU", platform.processor() or platform.machine()),
        ("cores usable", str(len(os.sched_getaffinity(0)))),
        ("Python", platform.python_version()),
        ("1-minute load average at the start", f"{load:.2f}"),
    ]


def run(
    count: int,
) -> tuple[list[tuple[str, str, str, str, str]], list[tuple[str, str]]]:
    facts = machine_facts()
    rows: list[tuple[str, str, str, str, str]] = []
    sign_rate, verify_rate = bare_ed25519(5000)
    with tempfile.TemporaryDirectory() as tmp:
        home = new_home(Path(tmp))
        from govchain.node import Node

        node = Node(home)
        service = CertificateService(node)
        people = holders(count)
        service.issue(ISSUER, "food-health", people[:10])  # loads the key once
        start = time.perf_counter()
        issued = service.issue(ISSUER, "food-health", people)
        issue_rate = count / (time.perf_counter() - start)
        log(f"issued {count} in {count / issue_rate:.2f} s")
        rows.append(
            (
                "certificates issued and recorded",
                f"{issue_rate:,.0f}/s",
                f"{sign_rate:,.0f}/s Ed25519 sign",
                ">= 5,000/s",
                "pass" if issue_rate >= 5000 else "miss",
            )
        )
        trust = trust_from_state(node.store)
        now = int(time.time())
        texts = [c.qr_text for c in issued]
        assert all(verify_text(t, trust, at=now).valid for t in texts[:100])
        log("verifying")
        check = best_rate(
            lambda: [verify_text(t, trust, at=now) for t in texts], len(texts)
        )
        rows.append(
            (
                "offline verifications from QR text, 1 process",
                f"{check:,.0f}/s",
                f"{verify_rate:,.0f}/s Ed25519 verify",
                ">= 5,000/s",
                "pass" if check >= 5000 else "miss",
            )
        )
        both = parallel_verify_rate(texts, registry_records(node.store), now)
        rows.append(
            (
                "offline verifications from QR text, 2 processes",
                f"{both:,.0f}/s",
                f"{verify_rate:,.0f}/s Ed25519 verify, 1 process",
                ">= 5,000/s",
                "pass" if both >= 5000 else "miss",
            )
        )
        log("decoding images")
        pngs = [qr_png(t) for t in texts[:200]]
        decode = best_rate(lambda: [decode_image_bytes(p) for p in pngs], len(pngs))
        opened = best_rate(
            lambda: [Image.open(io.BytesIO(p)).convert("L") for p in pngs], len(pngs)
        )
        rows.append(
            (
                "QR image decodes (PNG, scale 4)",
                f"{decode:,.0f}/s",
                f"{opened:,.0f}/s Pillow open only",
                "-",
                "-",
            )
        )
        ids = [c.id for c in issued[:1000]]
        service.close()
        node.close()
        port = free_port()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(str(home.path), port), daemon=True
        )
        server.start()
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(url + "/healthz", seconds=120)
            log(f"sending {RATE} requests a second for {SECONDS} s to {url}")
            base = asyncio.run(paced(port, ["/healthz"]))
            lat = asyncio.run(paced(port, [f"/v1/certs/{i}/status" for i in ids]))
        finally:
            server.terminate()
            server.join(10)
        p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
        rows.append(
            (
                f"status endpoint p50 at {RATE} req/s",
                f"{p50:.1f} ms",
                f"{percentile(base, 0.5):.1f} ms /healthz",
                "-",
                "-",
            )
        )
        rows.append(
            (
                f"status endpoint p99 at {RATE} req/s",
                f"{p99:.1f} ms",
                f"{percentile(base, 0.99):.1f} ms /healthz",
                "< 20 ms",
                "pass" if p99 < 20 else "miss",
            )
        )
    facts.append(("1-minute load average at the end", f"{os.getloadavg()[0]:.2f}"))
    return rows, facts


def render(
    count: int, rows: list[tuple[str, str, str, str, str]], facts: list[tuple[str, str]]
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {stamp}: certificates ({count:,} issued)",
        "",
        f"Command: `.venv/bin/python bench/certificates.py --count {count}`",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in facts]
    lines += [
        "",
        "| Measure | Figure | Baseline | Target | Result |",
        "|---|---:|---:|---:|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--count", type=int, default=10_000, help="Certificates to issue."
    )
    parser.add_argument("--record", type=Path, help="Append a dated section to FILE.")
    args = parser.parse_args()
    rows, facts = run(args.count)
    text = render(args.count, rows, facts)
    print(text)
    if args.record is not None:
        with args.record.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
        log(f"recorded in {args.record}")


if __name__ == "__main__":
    main()
