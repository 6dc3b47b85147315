"""Forwarding of CLI write commands to the `govchain serve` that holds the home.

A running server is the node home's one writer, so a write command cannot
open the node. When the home's lock is held and `HOME/api.json` names the
server, the command sends its request to the API instead, with the acting
department's token from `HOME/tokens/<dept>.token`, and prints what it would
have printed locally. The methods of `ApiClient` mirror the service functions
the commands call, and return the same records.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import ssl
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govchain.api.announce import api_file
from govchain.api.auth import read_token
from govchain.datasets import Dataset
from govchain.errors import (
    ConfigError,
    GovchainError,
    IntegrityError,
    PolicyError,
    ValidationError,
    VerificationError,
)
from govchain.node import NodeHome

if TYPE_CHECKING:
    # Imported where used at run time: most commands never forward.
    import httpx

    from govchain.archive.ingest import IngestReport, Source
    from govchain.certs.cwt import CertificateClaims
    from govchain.certs.index import HolderEntry
    from govchain.certs.service import Holder, IssuedCertificate

logger = logging.getLogger(__name__)

#: Seconds to wait for a response: a write waits for its block to commit.
TIMEOUT_S = 60.0
#: Seconds to wait for the response to an archive upload, which stores and
#: anchors up to `UPLOAD_BYTES` of files before it responds.
UPLOAD_TIMEOUT_S = 600.0
#: Files per archive upload: the number of multipart files the server's
#: framework (Starlette) parses from one request by default.
UPLOAD_FILES = 1000
#: Bytes of files per archive upload: half the server's default request size
#: limit (100 MiB), which leaves room for the metadata and multipart framing.
UPLOAD_BYTES = 50 * 1024 * 1024


def server_client(home: NodeHome) -> ApiClient | None:
    """Return a client of the server holding `home`, or None when no process does.

    Returns None as well when another process holds the home but announces no
    API (a plain CLI command still running); opening the node then fails with
    its own message.
    """
    if not _locked_by_another_process(home):
        return None
    if not api_file(home).is_file():
        return None
    client = ApiClient.for_home(home)
    if not _process_alive(client.pid):
        # Left behind by a server that crashed; the lock is someone else's.
        return None
    return client


def _process_alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _locked_by_another_process(home: NodeHome) -> bool:
    try:
        fd = os.open(home.lock_path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class ApiClient:
    """Sends write commands to a node's API as the departments hosted there."""

    def __init__(
        self,
        home: NodeHome,
        url: str,
        *,
        verify: ssl.SSLContext | bool = True,
        pid: int | None = None,
    ) -> None:
        self.home = home
        self.url = url.rstrip("/")
        self.pid = pid
        self._verify = verify

    @classmethod
    def for_home(cls, home: NodeHome) -> ApiClient:
        """Read `HOME/api.json`; raise `ConfigError` when it is missing or malformed."""
        path = api_file(home)
        try:
            record = json.loads(path.read_text("utf-8"))
            url = str(record["url"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"the node home is held by another process, and its API file {path} "
                f"is unusable ({exc}); stop that process or restart `govchain serve`",
                path=str(path),
            ) from exc
        verify: ssl.SSLContext | bool = True
        if record.get("tls_cert"):
            # The server's own certificate is trusted as well as the system's
            # authorities, so a self-signed certificate works for local use.
            verify = ssl.create_default_context()
            verify.load_verify_locations(cafile=str(record["tls_cert"]))
        pid = record.get("pid")
        logger.info("node home %s is held by the server at %s", home.path, url)
        return cls(home, url, verify=verify, pid=pid if isinstance(pid, int) else None)

    # -- transport -------------------------------------------------------------

    def call(
        self,
        dept: str,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """Send one request as `dept` and return the JSON response.

        `content` is sent as the raw body, as the data routes take files.

        Raises the govchain error that the status and reason stand for, with the
        server's message, so the CLI reports it as it would a local failure.
        """
        import httpx  # imported here: most commands never forward

        token = read_token(self.home, dept)
        headers = {"Authorization": f"Bearer {token}"}
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            response = httpx.request(
                method,
                self.url + path,
                json=body,
                params=params,
                content=content,
                headers=headers,
                timeout=TIMEOUT_S,
                verify=self._verify,
            )
        except httpx.HTTPError as exc:
            raise ConfigError(
                f"the server at {self.url} holds the node home but cannot be reached: "
                f"{exc}; check that `govchain serve` is still running"
            ) from exc
        return self._result(response, method, path, dept)

    def _result(
        self, response: httpx.Response, method: str, path: str, dept: str
    ) -> dict[str, Any]:
        """Return the JSON body of `response`, or raise the error it reports."""
        logger.info("%s %s as %s: %d", method, path, dept, response.status_code)
        try:
            data = response.json()
        except ValueError as exc:
            raise GovchainError(
                f"the server at {self.url} answered {method} {path} with status "
                f"{response.status_code} and no JSON body"
            ) from exc
        if response.is_error:
            raise _error_from(response.status_code, data, dept)
        result: dict[str, Any] = data
        return result

    # -- commands ---------------------------------------------------------------

    def register_resource(self, owner: str, **fields: Any) -> str:
        result = self.call(owner, "POST", "/v1/catalog/resources", body=fields)
        return str(result["id"])

    def update_resource(
        self, owner: str, resource_id: str, **changes: Any
    ) -> dict[str, Any]:
        """Change catalog fields of a resource; return the receipt."""
        path = f"/v1/catalog/resources/{_quote(resource_id)}"
        receipt: dict[str, Any] = self.call(owner, "PATCH", path, body=changes)[
            "receipt"
        ]
        return receipt

    def publish_version(
        self,
        owner: str,
        resource_id: str,
        dataset: Dataset,
        *,
        raw_hash: str | None,
        transformation: str,
    ) -> str:
        body = {
            "fields": dataset.fields,
            "rows": dataset.rows,
            "raw_hash": raw_hash,
            "transformation": transformation,
        }
        path = f"/v1/catalog/resources/{_quote(resource_id)}/versions"
        return str(self.call(owner, "POST", path, body=body)["version"])

    def request_access(
        self,
        consumer: str,
        resource_id: str,
        *,
        fields: list[str],
        purpose: str,
        term_days: int,
    ) -> dict[str, Any]:
        body = {
            "resource": resource_id,
            "fields": fields,
            "purpose": purpose,
            "term_days": term_days,
        }
        record: dict[str, Any] = self.call(consumer, "POST", "/v1/requests", body=body)[
            "request"
        ]
        return record

    def approve(self, approver: str, request_id: str) -> dict[str, Any]:
        path = f"/v1/requests/{_quote(request_id)}/approve"
        record: dict[str, Any] = self.call(approver, "POST", path)["request"]
        return record

    def reject(self, approver: str, request_id: str, reason: str) -> dict[str, Any]:
        path = f"/v1/requests/{_quote(request_id)}/reject"
        body = {"reason": reason}
        record: dict[str, Any] = self.call(approver, "POST", path, body=body)["request"]
        return record

    def revoke(self, dept: str, grant_id: str, reason: str) -> dict[str, Any]:
        path = f"/v1/grants/{_quote(grant_id)}/revoke"
        body = {"reason": reason}
        record: dict[str, Any] = self.call(dept, "POST", path, body=body)["grant"]
        return record

    def deliver(
        self, consumer: str, *, grant_id: str | None, resource_id: str
    ) -> dict[str, Any]:
        """Ask for a delivery with the consumer's token; return the signed package."""
        if grant_id is None:
            path = f"/v1/catalog/resources/{_quote(resource_id)}/delivery"
            return self.call(consumer, "POST", path)
        path = f"/v1/grants/{_quote(grant_id)}/delivery"
        return self.call(consumer, "POST", path, params={"resource": resource_id})

    def receive(self, package: dict[str, Any]) -> dict[str, Any]:
        """Record the receipt of a package as its consumer."""
        path = f"/v1/deliveries/{_quote(str(package['delivery']))}/receipt"
        return self.call(str(package["consumer"]), "POST", path, body=package)

    def operator_act(
        self, operator: str, tx_type: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Submit a membership change as the operator; return the receipt."""
        method_path, body = _membership_request(tx_type, payload)
        receipt: dict[str, Any] = self.call(operator, "POST", method_path, body=body)[
            "receipt"
        ]
        return receipt

    # -- data governance -------------------------------------------------------

    def import_data(
        self,
        owner: str,
        resource_id: str,
        path: Path,
        *,
        standard: str | None,
        sheet: str | None,
        encoding: str | None,
        header_row: int | None = None,
        header_rows: int | None = None,
    ) -> dict[str, Any]:
        """Upload a data file as a new version; `standard` is NAME@VERSION."""
        params = {"filename": path.name}
        for name, value in (
            ("standard", standard),
            ("sheet", sheet),
            ("encoding", encoding),
            ("header_row", header_row),
            ("header_rows", header_rows),
        ):
            if value is not None:
                params[name] = str(value)
        route = f"/v1/data/resources/{_quote(resource_id)}/import"
        return self.call(owner, "POST", route, params=params, content=path.read_bytes())

    def clean(
        self,
        owner: str,
        resource_id: str,
        rules: dict[str, Any],
        *,
        version: str | None,
    ) -> dict[str, Any]:
        route = f"/v1/data/resources/{_quote(resource_id)}/clean"
        body = {"rules": rules, "version": version}
        return self.call(owner, "POST", route, body=body)

    def classify(
        self,
        owner: str,
        resource_id: str,
        rules: dict[str, Any] | None,
        *,
        version: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        route = f"/v1/data/resources/{_quote(resource_id)}/classify"
        body = {"rules": rules, "version": version, "dry_run": dry_run}
        return self.call(owner, "POST", route, body=body)

    def override_grade(
        self, owner: str, resource_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Override one field's grade; return the resource's classification entry."""
        route = f"/v1/data/resources/{_quote(resource_id)}/overrides"
        entry: dict[str, Any] = self.call(owner, "POST", route, body=fields)[
            "classification"
        ]
        return entry

    def register_standard(
        self, dept: str, document: bytes, *, name: str | None, version: str | None
    ) -> dict[str, Any]:
        """Register a Table Schema document; return the registry record."""
        params = {k: v for k, v in (("name", name), ("version", version)) if v}
        record: dict[str, Any] = self.call(
            dept, "POST", "/v1/data/standards", params=params, content=document
        )["standard"]
        return record

    # -- certificates ----------------------------------------------------------

    def define_cert_template(self, operator: str, template: dict[str, Any]) -> int:
        """Define a certificate type as the operator; return its version."""
        body = {"template": template}
        result = self.call(operator, "POST", "/v1/certs/templates", body=body)
        return int(result["version"])

    def authorize_cert_issuer(
        self, operator: str, department: str, types: list[str]
    ) -> dict[str, Any]:
        """Set the types `department` may issue, as the operator; return the receipt."""
        path = f"/v1/certs/issuers/{_quote(department)}"
        receipt: dict[str, Any] = self.call(
            operator, "PUT", path, body={"types": types}
        )["receipt"]
        return receipt

    def create_cert_key(
        self, issuer: str, *, valid_days: int, replaces: str | None
    ) -> str:
        """Have the server create and register a signing key; return its kid."""
        body = {"valid_days": valid_days, "replaces": replaces}
        return str(self.call(issuer, "POST", "/v1/certs/keys", body=body)["kid"])

    def revoke_cert_key(self, issuer: str, kid: str, reason: str) -> dict[str, Any]:
        path = f"/v1/certs/keys/{_quote(kid)}/revoke"
        receipt: dict[str, Any] = self.call(
            issuer, "POST", path, body={"reason": reason}
        )["receipt"]
        return receipt

    def issue_certs(
        self,
        issuer: str,
        cert_type: str,
        holders: list[Holder],
        *,
        valid_days: int | None,
    ) -> list[IssuedCertificate]:
        """Issue certificates as `issuer`; return them as the service does.

        The claims are read back from each certificate's QR text, so a card
        shows exactly what was signed.
        """
        body = {
            "type": cert_type,
            "holders": [
                {"holder_id": h.holder_id, "name": h.name, "claims": h.claims}
                for h in holders
            ],
            "valid_days": valid_days,
        }
        from govchain.certs.service import IssuedCertificate

        result = self.call(issuer, "POST", "/v1/certs/issue", body=body)
        title = str(result.get("title") or cert_type)
        labels = {str(k): str(v) for k, v in (result.get("labels") or {}).items()}
        return [
            IssuedCertificate(
                qr_text=str(c["qr_text"]),
                claims=_claims_of(str(c["qr_text"])),
                hash=str(c["hash"]),
                kid=str(c["kid"]),
                title=title,
                labels=labels,
            )
            for c in result["certificates"]
        ]

    def set_cert_status(
        self, issuer: str, cert_id: str, status: str, reason: str
    ) -> dict[str, Any]:
        """Suspend, reinstate or revoke a certificate; return the receipt."""
        path = f"/v1/certs/{_quote(cert_id)}/status"
        body = {"status": status, "reason": reason}
        receipt: dict[str, Any] = self.call(issuer, "POST", path, body=body)["receipt"]
        return receipt

    def lookup_certs(
        self, requester: str, id_number: str, *, id_format: str
    ) -> list[HolderEntry]:
        """Find certificates by ID number, as the holder index returns them.

        The number travels in the request body, never in the URL, so no
        access log records it.
        """
        from govchain.certs.index import HolderEntry

        body = {"id_number": id_number, "id_format": id_format}
        found = self.call(requester, "POST", "/v1/certs/lookup", body=body)
        return [
            HolderEntry(
                cert_id=str(r["id"]),
                issuer=str(r["issuer"]),
                type=str(r["type"]),
                masked_name=str(r["masked_name"]),
                iat=int(r["issued_at"]),
                exp=int(r["expires_at"]),
            )
            for r in found["certificates"]
        ]

    def cert_trust_list(self, operator: str) -> dict[str, Any]:
        """Return the trust list that the server signs with the operator's key."""
        return self.call(operator, "GET", "/v1/certs/trust-list")

    def cert_revocation_list(self, operator: str, since: int) -> dict[str, Any]:
        """Return the revocation list from `since` on, signed by the operator."""
        params = {"since": str(since)}
        return self.call(operator, "GET", "/v1/certs/revocation-list", params=params)

    # -- archive ---------------------------------------------------------------

    def ingest_archive(
        self,
        dept: str,
        sources: list[Source],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Upload files with their metadata to be archived; return the summed report.

        Files go in requests of at most `UPLOAD_FILES` files and
        `UPLOAD_BYTES` bytes. Each request is anchored in its own batches, so
        a large set makes more batches than a local ingest would.
        """
        from govchain.archive.ingest import IngestReport

        report = IngestReport()
        for chunk in _upload_chunks(sources):
            done = self._post_files(dept, "/v1/archive/items", chunk)
            report.items += int(done["items"])
            report.skipped += int(done["already_archived"])
            report.batches.extend(str(b) for b in done["batches"])
            report.stored_bytes += int(done["stored_bytes"])
            report.new_objects += int(done["new_objects"])
            if progress is not None:
                progress(len(chunk))
        return report

    def audit_archive(self, dept: str, *, repair: bool) -> dict[str, Any]:
        """Run an audit on the server and record it; return its report."""
        params = {"repair": "true" if repair else "false"}
        return self.call(dept, "POST", "/v1/archive/audits", params=params)

    def dispose_archive_item(
        self, dept: str, item: str, approval: str
    ) -> dict[str, Any]:
        """Record an item's disposal and erase its copies; return the outcome."""
        body = {"item": item, "approval": approval}
        return self.call(dept, "POST", "/v1/archive/dispositions", body=body)

    def _post_files(
        self, dept: str, path: str, sources: list[Source]
    ) -> dict[str, Any]:
        """Send `sources` as one multipart upload as `dept`; return the JSON response.

        Errors are raised as `call` raises them. The files are streamed from
        disk, not read into memory.
        """
        import httpx

        token = read_token(self.home, dept)
        metadata = [{"name": s.name, **s.metadata.to_dict()} for s in sources]
        with contextlib.ExitStack() as stack:
            files = [
                (
                    "files",
                    (
                        f"part-{n}",
                        stack.enter_context(open(s.path, "rb")),
                        "application/octet-stream",
                    ),
                )
                for n, s in enumerate(sources, start=1)
            ]
            try:
                response = httpx.post(
                    self.url + path,
                    data={"metadata": json.dumps(metadata, ensure_ascii=False)},
                    files=files,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=UPLOAD_TIMEOUT_S,
                    verify=self._verify,
                )
            except httpx.HTTPError as exc:
                raise ConfigError(
                    f"the server at {self.url} holds the node home but cannot be "
                    f"reached: {exc}; check that `govchain serve` is still running"
                ) from exc
        return self._result(response, "POST", path, dept)


def _membership_request(
    tx_type: str, payload: dict[str, Any]
) -> tuple[str, dict[str, Any] | None]:
    """Return the API path and body of a `consortium.*` transaction payload."""
    if tx_type == "consortium.admit":
        return "/v1/consortium/departments", {
            **payload["department"],
            "public_key": payload["public_key"],
        }
    base = f"/v1/consortium/departments/{_quote(str(payload['department']))}"
    if tx_type == "consortium.suspend":
        return f"{base}/suspend", {"reason": payload["reason"]}
    if tx_type == "consortium.reinstate":
        return f"{base}/reinstate", None
    if tx_type == "consortium.rotate_key":
        # No public key: the server generates one for a department it hosts.
        return f"{base}/rotate-key", {"public_key": payload.get("public_key")}
    raise ValueError(f"no API route submits {tx_type!r}")


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _error_from(status: int, data: Any, dept: str) -> GovchainError:
    """Rebuild the error a failed API call stands for."""
    body = data if isinstance(data, dict) else {}
    message = str(body.get("error", f"the server answered with status {status}"))
    reason = str(body.get("reason", "error"))
    if status == 401:
        return ConfigError(
            f"the server refused the API token of {dept!r}: {message}",
            path=None,
        )
    if status == 403:
        return PolicyError(message, reason=reason)
    if status in (404, 422):
        if reason == "verification-failed":
            return VerificationError(message)
        return ValidationError(message, reason=reason)
    if status == 400:
        if reason == "untrusted-checkpoint":
            return VerificationError(message)
        return ConfigError(message)
    if status == 409:
        return IntegrityError(message)
    if status == 503 and reason == "node-behind":
        return IntegrityError(message)
    return GovchainError(f"the server failed ({status}): {message}")


def _claims_of(qr_text: str) -> CertificateClaims:
    """Decode the claims inside a certificate's QR text, without verifying it."""
    from govchain.certs import base45, qrtext
    from govchain.certs.cose import parse_sign1
    from govchain.certs.cwt import decode_claims

    _prefix, body = qrtext.split_prefix(qr_text)
    return decode_claims(parse_sign1(qrtext.decompress(base45.decode(body))).payload)


def _upload_chunks(sources: list[Source]) -> Iterator[list[Source]]:
    """Split `sources` into uploads that stay within the server's limits.

    Raises `ConfigError` for a file that alone exceeds the request size limit.
    """
    chunk: list[Source] = []
    size = 0
    for source in sources:
        try:
            length = source.path.stat().st_size
        except OSError as exc:
            raise ValidationError(
                f"file {source.path} is unreadable ({exc.strerror or exc}); fix its "
                "permissions or remove it, then ingest again",
                reason="unreadable",
            ) from exc
        if length > UPLOAD_BYTES:
            raise ConfigError(
                f"file {source.path} has {length} bytes, more than the "
                f"{UPLOAD_BYTES} bytes one upload to the server may carry; stop "
                "`govchain serve` and ingest it on the node home"
            )
        if chunk and (len(chunk) >= UPLOAD_FILES or size + length > UPLOAD_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(source)
        size += length
    if chunk:
        yield chunk
