"""`govchain serve` as a real process, and CLI writes forwarded to it.

Each test starts `govchain serve --port 0` on an encrypted node home and stops
it with a signal. While it runs, the home is locked, so a CLI write command
can succeed only by going through the API.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from govchain.api.auth import read_token
from govchain.node import Node, NodeHome

pytestmark = pytest.mark.slow

PASSPHRASE = "correct horse battery staple"
#: Upper bound on how long the server may take to start or stop; a hang fails
#: the test instead of blocking the run.
WAIT_S = 60.0


def govchain(
    home: Path, *args: str, passphrase: str | None = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    """Run a `govchain` command on `home` with the home's passphrase by default."""
    return subprocess.run(
        [sys.executable, "-m", "govchain", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=_env(passphrase),
        stdin=subprocess.DEVNULL,
        timeout=WAIT_S,
        check=False,
    )


def _env(passphrase: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCHAIN_")}
    if passphrase is not None:
        env["GOVCHAIN_PASSPHRASE"] = passphrase
    env["COLUMNS"] = "200"
    return env


@dataclass
class Served:
    """A running `govchain serve` process and what it announced."""

    home: Path
    process: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=WAIT_S)

    def get(
        self, path: str, dept: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        token = read_token(NodeHome(self.home), dept)
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(self.url + path, headers=headers, params=params)

    def post(self, path: str, dept: str, body: dict[str, object]) -> httpx.Response:
        token = read_token(NodeHome(self.home), dept)
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.post(self.url + path, headers=headers, json=body, timeout=WAIT_S)


@pytest.fixture
def home(tmp_path: Path, demo_consortium: Path) -> Path:
    path = tmp_path / "home"
    result = govchain(
        path, "init", "--consortium", str(demo_consortium), passphrase=PASSPHRASE
    )
    assert result.returncode == 0, result.stderr
    return path


def start_server(home: Path, *extra: str, cafile: Path | None = None) -> Served:
    """Start `govchain serve` and wait until it announces itself and answers."""
    log = home.parent / "serve.log"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "govchain", "--home", str(home), "serve", *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(PASSPHRASE),
            stdin=subprocess.DEVNULL,
        )
    try:
        url = _wait_until_served(home, process, log, cafile)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return Served(home, process, url, log)


def _wait_until_served(
    home: Path, process: subprocess.Popen[str], log: Path, cafile: Path | None
) -> str:
    verify = ssl.create_default_context(cafile=cafile) if cafile else True
    api_file = home / "api.json"
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"govchain serve exited early:\n{log.read_text()}")
        if api_file.is_file():
            url = str(json.loads(api_file.read_text("utf-8"))["url"])
            try:
                health = httpx.get(url + "/healthz", verify=verify, timeout=5)
            except httpx.TransportError:
                health = None
            if health is not None and health.status_code == 200:
                return url
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.1)
    pytest.fail(f"govchain serve did not start:\n{log.read_text()}")


@pytest.fixture
def served(home: Path) -> Iterator[Served]:
    server = start_server(home, "--port", "0")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def _register(home: Path, sharing: str = "conditional") -> str:
    # Level 1, so deliveries carry the published values unmasked.
    result = govchain(
        home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "医疗机构床位",
        "--level",
        "1",
        "--sharing",
        sharing,
        "--field",
        "org_code",
        "--field",
        "beds:integer",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("registered res-")
    return result.stdout.split()[1]


def test_serve_announces_and_creates_tokens(served: Served) -> None:
    record = json.loads((served.home / "api.json").read_text("utf-8"))
    assert record["url"] == served.url
    assert record["url"].startswith("http://127.0.0.1:")
    assert record["pid"] == served.process.pid
    hosts = json.loads((served.home / "node.json").read_text("utf-8"))["hosts"]
    stored = json.loads((served.home / "api_tokens.json").read_text("utf-8"))
    assert set(stored["tokens"]) == set(hosts)
    for dept in hosts:
        path = served.home / "tokens" / f"{dept}.token"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text("utf-8").strip() not in json.dumps(stored)
    status = httpx.get(served.url + "/v1/status").json()
    assert status["node"] == "node-city-bdb"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_signal_cleans_up(served: Served, sig: signal.Signals) -> None:
    assert served.stop(sig) == 0
    assert not (served.home / "api.json").exists()
    log = served.log.read_text("utf-8")
    assert "API of node node-city-bdb stopped" in log
    # The lock is released, so the node opens again.
    home = NodeHome(served.home, passphrase=PASSPHRASE)
    Node(home).close()


def test_serve_port_in_use(home: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        result = govchain(home, "serve", "--port", port, passphrase=PASSPHRASE)
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1 port" in result.stderr
    assert not (home / "api.json").exists()


def test_serve_tls_needs_both_files(home: Path) -> None:
    result = govchain(
        home, "serve", "--tls-cert", str(home / "cert.pem"), passphrase=PASSPHRASE
    )
    assert result.returncode == 2
    assert "--tls-cert and --tls-key together" in result.stderr


def test_cli_request_forwarded(served: Served) -> None:
    resource_id = _register(served.home)
    result = govchain(
        served.home,
        "share",
        "request",
        "--as",
        "city-cdc",
        resource_id,
        "--fields",
        "beds",
        "--purpose",
        "bed planning",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("request req-")
    assert "pending (rule default)" in result.stdout
    assert "step: city-health within 5 working days, due 20" in result.stdout
    request_id = result.stdout.split()[1].rstrip(":")

    # The server recorded it, signed by the consumer.
    shown = served.get(f"/v1/requests/{request_id}", "city-cdc").json()
    assert shown["consumer"] == "city-cdc"
    assert shown["resource"] == resource_id
    assert "POST /v1/requests HTTP/1.1" in served.log.read_text("utf-8")


def test_cli_sharing_flow_forwarded(served: Served, tmp_path: Path) -> None:
    resource_id = _register(served.home)
    data = tmp_path / "beds.csv"
    data.write_text("org_code,beds\n440104001,120\n440106002,85\n", "utf-8")
    result = govchain(
        served.home,
        "catalog",
        "publish",
        "--as",
        "city-health",
        "--resource",
        resource_id,
        str(data),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"published {resource_id}@1: 2 rows")

    result = govchain(
        served.home,
        "share",
        "request",
        "--as",
        "city-cdc",
        resource_id,
        "--fields",
        "org_code,beds",
        "--purpose",
        "bed planning",
    )
    request_id = result.stdout.split()[1].rstrip(":")
    result = govchain(
        served.home, "share", "approve", "--as", "city-health", request_id
    )
    assert result.returncode == 0, result.stderr
    assert f"request {request_id}: granted, grant grant-" in result.stdout
    grant_id = result.stdout.split()[-1]

    out = tmp_path / "package.json"
    result = govchain(
        served.home,
        "share",
        "deliver",
        resource_id,
        "--consumer",
        "city-cdc",
        "--grant",
        grant_id,
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"delivered 2 rows of {resource_id} to city-cdc" in result.stdout
    package = json.loads(out.read_text("utf-8"))
    assert package["rows"] == [["440104001", "120"], ["440106002", "85"]]
    delivery = served.get(f"/v1/grants/{grant_id}", "city-cdc").json()
    assert delivery["status"] == "active"
    trail = served.get("/v1/audit", "city-bdb", params={"resource": resource_id})
    types = [r["type"] for r in trail.json()["transactions"]]
    assert "sharing.deliver" in types
    assert "sharing.receive" in types

    result = govchain(
        served.home,
        "share",
        "revoke",
        "--as",
        "city-health",
        grant_id,
        "--reason",
        "planning done",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"grant {grant_id}: revoked"


def test_cli_refusal_forwarded(served: Served) -> None:
    resource_id = _register(served.home, sharing="not_shared")
    result = govchain(
        served.home,
        "share",
        "request",
        "--as",
        "city-cdc",
        resource_id,
        "--fields",
        "beds",
        "--purpose",
        "bed planning",
    )
    assert result.returncode == 2
    assert "error: resource" in result.stderr
    assert "is not shared" in result.stderr


def test_cli_membership_forwarded(served: Served) -> None:
    result = govchain(
        served.home, "consortium", "suspend", "city-market", "--reason", "audit"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("consortium.suspend committed in block ")
    departments = served.get("/v1/consortium/departments", "city-bdb").json()
    statuses = {d["id"]: d["status"] for d in departments["departments"]}
    assert statuses["city-market"] == "suspended"


def test_cli_update_forwarded(served: Served) -> None:
    resource_id = _register(served.home)
    result = govchain(
        served.home,
        "catalog",
        "update",
        "--as",
        "city-health",
        resource_id,
        "--title",
        "Hospital beds by district",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"updated {resource_id}: title"
    shown = served.get(f"/v1/catalog/resources/{resource_id}", "city-cdc").json()
    assert shown["title"] == "Hospital beds by district"
    assert (
        f"PATCH /v1/catalog/resources/{resource_id} HTTP/1.1"
        in served.log.read_text("utf-8")
    )


def test_cli_rotate_hosted_key_forwarded(served: Served) -> None:
    before = served.get("/v1/consortium/departments", "city-bdb").json()
    kids = {d["id"]: d["kid"] for d in before["departments"]}
    result = govchain(served.home, "consortium", "rotate-key", "city-health")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("consortium.rotate_key committed in block ")
    after = served.get("/v1/consortium/departments", "city-bdb").json()
    new_kids = {d["id"]: d["kid"] for d in after["departments"]}
    assert new_kids["city-health"] != kids["city-health"]
    assert new_kids["city-cdc"] == kids["city-cdc"]
    # The server signs with the new key at once.
    assert _register(served.home).startswith("res-")


def test_api_rotate_hosted_key_refused(served: Served) -> None:
    response = served.post(
        "/v1/consortium/departments/city-health/rotate-key", "city-cdc", {}
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "not-operator"


def test_cli_without_token_fails(served: Served) -> None:
    (served.home / "tokens" / "city-health.token").unlink()
    result = govchain(
        served.home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "t",
        "--level",
        "1",
        "--sharing",
        "unconditional",
    )
    assert result.returncode == 2
    assert "govchain token create --as city-health" in result.stderr


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_tls_forwarding(home: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = start_server(
        home,
        *("--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)),
        cafile=cert,
    )
    try:
        assert server.url.startswith("https://127.0.0.1:")
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url.replace("https", "http") + "/healthz")
        resource_id = _register(home)
        assert resource_id.startswith("res-")
    finally:
        assert server.stop() == 0


def test_forwarding_needs_passphrase(served: Served) -> None:
    wrong = govchain(
        served.home,
        "catalog",
        "register",
        "--as",
        "city-health",
        "--title",
        "x",
        "--level",
        "1",
        "--sharing",
        "unconditional",
        passphrase="not the passphrase",
    )
    assert wrong.returncode == 2
    assert "wrong passphrase" in wrong.stderr


def test_escalate_and_checkpoint_forwarded(served: Served, tmp_path: Path) -> None:
    escalated = govchain(served.home, "share", "overdue", "--escalate")
    assert escalated.returncode == 0, escalated.stderr
    assert "escalated 0 requests" in escalated.stdout
    saved = tmp_path / "checkpoint.txt"
    shown = govchain(served.home, "checkpoint")
    assert shown.returncode == 0, shown.stderr
    saved.write_text(shown.stdout, "utf-8")
    checked = govchain(served.home, "checkpoint", str(saved))
    assert checked.returncode == 0, checked.stderr
    assert "is consistent with this ledger" in checked.stdout


BEDS_STANDARD = {
    "name": "beds",
    "version": "1",
    "fields": [
        {"name": "org_code", "constraints": {"required": True}},
        {"name": "beds", "type": "integer", "constraints": {"minimum": 0}},
    ],
}


def test_cli_data_steps_forwarded(served: Served, tmp_path: Path) -> None:
    resource_id = _register(served.home)
    standard = tmp_path / "beds.json"
    standard.write_text(json.dumps(BEDS_STANDARD), "utf-8")
    result = govchain(
        served.home,
        "data",
        "standard",
        "register",
        "--as",
        "city-health",
        str(standard),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("registered beds@1 (sha256 ")

    data = tmp_path / "beds.csv"
    data.write_text("org_code,beds\n440104001, 120\n440106002,-5\n", "utf-8")
    command = ["data", "import", str(data), "--as", "city-health"]
    command += ["--resource", resource_id, "--standard"]
    # The server reads standards from its registry only.
    result = govchain(served.home, *command, str(standard))
    assert result.returncode == 2
    assert "takes only a registered standard NAME@VERSION" in result.stderr
    result = govchain(served.home, *command, "beds@1")
    assert result.returncode == 0, result.stderr
    assert f"imported beds.csv as {resource_id}@1: 2 rows" in result.stdout
    assert "beds.csv: invalid against" in result.stdout
    assert "minimum" in result.stdout

    rules = tmp_path / "trim.json"
    rules.write_text(
        json.dumps({"name": "trim", "version": "1", "rules": [{"op": "trim"}]}), "utf-8"
    )
    result = govchain(
        served.home, "data", "clean", resource_id, "--rules", str(rules), "--json"
    )
    assert result.returncode == 0, result.stderr
    cleaned = json.loads(result.stdout)
    assert cleaned["parent"] == f"{resource_id}@1"
    assert cleaned["version"] == f"{resource_id}@2"
    assert cleaned["rule_set"] == "trim@1"
    assert cleaned["rows_out"] == 2

    result = govchain(served.home, "data", "classify", resource_id)
    assert result.returncode == 0, result.stderr
    assert f"{resource_id}@2 graded with" in result.stdout
    result = govchain(
        served.home,
        "data",
        "override",
        resource_id,
        "--field",
        "beds",
        "--level",
        "2",
        "--reason",
        "counts by district are internal",
    )
    assert result.returncode == 0, result.stderr
    assert f"{resource_id} field beds: level 1 -> 2" in result.stdout

    log = served.log.read_text("utf-8")
    for route in ("import", "clean", "classify", "overrides"):
        assert f"POST /v1/data/resources/{resource_id}/{route}" in log
    assert "POST /v1/data/standards" in log


def test_access_log_leaves_out_query(served: Served) -> None:
    token = read_token(NodeHome(served.home), "city-health")
    headers = {"Authorization": f"Bearer {token}"}
    registered = httpx.post(
        served.url + "/v1/data/standards",
        headers=headers,
        content=json.dumps(BEDS_STANDARD).encode(),
        timeout=WAIT_S,
    )
    assert registered.status_code == 201, registered.text
    # A file name may carry personal data, such as this synthetic ID number.
    response = httpx.post(
        served.url + "/v1/data/validate",
        params={"filename": "体检_440104198903130498.csv", "standard": "beds@1"},
        headers=headers,
        content=b"org_code,beds\n440104001,120\n",
        timeout=WAIT_S,
    )
    assert response.status_code == 200, response.text
    log = served.log.read_text("utf-8")
    assert '"POST /v1/data/validate HTTP/1.1" 200 OK' in log
    assert "440104198903130498" not in log
    assert "filename=" not in log
    assert "standard=beds" not in log
