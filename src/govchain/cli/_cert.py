"""`govchain cert`: certificate types, issuers, keys, issuance, status and verification."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from govchain.certs import (
    CertificateService,
    Holder,
    TrustStore,
    certificate_status,
    read_revocation_list,
    read_trust_list,
    trust_from_state,
    verify_text,
)
from govchain.certs._handlers import KEY_NS, REASON_CODES, TEMPLATE_NS
from govchain.certs.errors import CertificateError
from govchain.certs.keys import load_trust_file
from govchain.certs.qrtext import strip_scanner_newline
from govchain.certs.registry import operator_key_of
from govchain.certs.service import MAX_NAME_CHARS
from govchain.certs.verify import Verdict, iso_time
from govchain.cli._context import (
    CliState,
    console,
    err_console,
    print_json,
    print_table,
)
from govchain.cli._remote import ApiClient
from govchain.crypto.keys import KeyFormatError, PublicKey
from govchain.errors import ConfigError, ValidationError
from govchain.node import HOME_ENV
from govchain.tabular._text import decode

app = typer.Typer(
    help="Electronic certificates: issue, verify, look up and revoke.",
    no_args_is_help=True,
)
template_app = typer.Typer(help="Certificate types (operator).", no_args_is_help=True)
issuer_app = typer.Typer(help="Authorized issuers (operator).", no_args_is_help=True)
key_app = typer.Typer(help="Issuers' certificate signing keys.", no_args_is_help=True)
trust_app = typer.Typer(
    help="The signed trust list for offline verifiers.", no_args_is_help=True
)
revocations_app = typer.Typer(
    help="The signed revocation list for offline verifiers.", no_args_is_help=True
)
app.add_typer(template_app, name="template")
app.add_typer(issuer_app, name="issuer")
app.add_typer(key_app, name="key")
app.add_typer(trust_app, name="trust-list")
app.add_typer(revocations_app, name="revocation-list")

AsDept = Annotated[
    str, typer.Option("--as", help="Department that signs (hosted on this node).")
]
Reason = Annotated[str, typer.Option(help=f"Reason code: {', '.join(REASON_CODES)}.")]


@contextmanager
def _service(ctx: typer.Context) -> Iterator[CertificateService | ApiClient]:
    """Open the certificate service of the node, or a client of its running server.

    While `govchain serve` holds the node home, the commands send their
    requests to its API instead, as the department that would sign them.
    """
    state: CliState = ctx.obj
    target = state.node_or_api()
    if isinstance(target, ApiClient):
        yield target
        return
    service = CertificateService(target)
    try:
        yield service
    finally:
        service.close()
        target.close()


def _operator(ctx: typer.Context) -> str:
    """Return the operator's department id, read from the ledger."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        operator, _key = operator_key_of(store)
    finally:
        store.close()
    return operator


def _parse_time(text: str) -> int:
    """Read `--at` as unix seconds or an ISO 8601 time (UTC when it has no zone)."""
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"--at {text!r} is neither unix seconds nor an ISO 8601 time such as "
            "2026-03-01T08:00:00+08:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


# -- registry -----------------------------------------------------------------


@template_app.command("define")
def template_define(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Template as JSON (docs/certificates.md).")
    ],
) -> None:
    """Define a certificate type, or its next version, signed by the operator."""
    try:
        template = json.loads(file.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"template file {file} is unreadable: {exc}", path=str(file)
        ) from exc
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            version = service.define_cert_template(_operator(ctx), template)
        else:
            version = service.define_template(template)
    console.print(f"defined certificate type {template.get('id')} version {version}")


@template_app.command("list")
def template_list(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List certificate types with their current version and validity."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        records = [record for _key, record in store.scan(TEMPLATE_NS)]
    finally:
        store.close()
    if as_json:
        print_json(records)
        return
    rows = []
    for record in records:
        current = record["versions"][str(record["current"])]
        rows.append(
            [
                record["id"],
                record["current"],
                current["title"],
                current["validity_days"],
            ]
        )
    print_table(
        "certificate types", ["type", "version", "title", "validity days"], rows
    )


@issuer_app.command("authorize")
def issuer_authorize(
    ctx: typer.Context,
    department: Annotated[str, typer.Argument(help="Department id.")],
    cert_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="A type it may issue; repeat. None revokes all."),
    ] = None,
) -> None:
    """Set the certificate types a department may issue."""
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            service.authorize_cert_issuer(_operator(ctx), department, cert_type or [])
        else:
            service.authorize_issuer(department, cert_type or [])
    console.print(f"{department} may issue: {', '.join(cert_type or []) or 'nothing'}")


@key_app.command("create")
def key_create(
    ctx: typer.Context,
    as_dept: AsDept,
    days: Annotated[int, typer.Option(help="Days the key may sign.")] = 365,
    replaces: Annotated[
        str | None, typer.Option(help="Kid of the key it replaces.")
    ] = None,
) -> None:
    """Create and register a certificate signing key (stored encrypted on this node)."""
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            kid = service.create_cert_key(as_dept, valid_days=days, replaces=replaces)
        else:
            kid = service.create_key(as_dept, valid_days=days, replaces=replaces)
    console.print(f"registered certificate key {kid} of {as_dept}")


@key_app.command("revoke")
def key_revoke(ctx: typer.Context, kid: str, as_dept: AsDept, reason: Reason) -> None:
    """Revoke a signing key: everything it signed fails verification."""
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            service.revoke_cert_key(as_dept, kid, reason)
        else:
            service.revoke_key(as_dept, kid, reason)
    console.print(f"revoked certificate key {kid}")


@key_app.command("list")
def key_list(ctx: typer.Context) -> None:
    """List certificate signing keys with their issuer, window and status."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        rows = [
            [
                r["kid"],
                r["issuer"],
                iso_time(r["not_before"]),
                iso_time(r["not_after"]),
                r["status"],
            ]
            for _k, r in store.scan(KEY_NS)
        ]
    finally:
        store.close()
    print_table("certificate keys", ["kid", "issuer", "from", "until", "status"], rows)


# -- issuance -------------------------------------------------------------------


def _read_holders(path: Path, *, encoding: str | None = None) -> list[Holder]:
    """Read holders from JSON (a list of objects) or CSV (a header row).

    Each holder has `holder_id`, `name` and the template's claims; in CSV every
    other column is a claim, and `true`/`false` become booleans. The text
    encoding is detected as for data imports (UTF-8, UTF-16, GB18030, Big5)
    unless `encoding` names it.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"holder file {path} is unreadable: {exc.strerror}", path=str(path)
        ) from exc
    text, _codec = decode(data, source=f"holder file {path}", encoding=encoding)
    is_json = path.suffix.lower() == ".json"
    rows = _json_rows(path, text) if is_json else _csv_rows(text)
    if not rows:
        raise ValidationError(
            f"holder file {path} lists no holders; add one row per holder below "
            "the header row holder_id,name,...",
            reason="no-holders",
        )
    holders = []
    # CSV rows are numbered as a spreadsheet shows them, after the header row.
    for number, row in enumerate(rows, start=1 if is_json else 2):
        where = f"{path} {'entry' if is_json else 'row'} {number}"
        if not isinstance(row, dict) or not row.get("holder_id") or not row.get("name"):
            raise ValidationError(
                f"{where}: holder_id and name are required", reason="bad-holder"
            )
        name = str(row["name"]).strip()
        if len(name) > MAX_NAME_CHARS:
            raise ValidationError(
                f"{where}: the name has {len(name)} characters, more than the "
                f"{MAX_NAME_CHARS} a certificate card shows; check the name column",
                reason="bad-holder",
            )
        claims = {
            k: v for k, v in row.items() if k not in ("holder_id", "name") and v != ""
        }
        holders.append(Holder(str(row["holder_id"]), name, claims))
    return holders


def _json_rows(path: Path, text: str) -> list[Any]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"holder file {path} is not JSON: {exc}", path=str(path)
        ) from exc
    if not isinstance(rows, list):
        raise ConfigError(
            f"holder file {path} must hold a JSON list of holder objects",
            path=str(path),
        )
    return rows


def _csv_rows(text: str) -> list[Any]:
    return [
        {k: {"true": True, "false": False}.get(v, v) for k, v in row.items()}
        for row in csv.DictReader(text.splitlines())
    ]


@app.command()
def issue(
    ctx: typer.Context,
    as_dept: AsDept,
    cert_type: Annotated[str, typer.Option("--type", help="Certificate type id.")],
    holders: Annotated[Path, typer.Option(help="Holders as CSV or JSON.")],
    out: Annotated[
        Path, typer.Option(help="Folder for the QR text, PNG, SVG and PDF card.")
    ],
    days: Annotated[
        int | None, typer.Option(help="Validity in days (default: the type's).")
    ] = None,
    images: Annotated[
        bool, typer.Option(help="Write PNG, SVG and PDF as well as the text.")
    ] = True,
    encoding: Annotated[
        str | None,
        typer.Option(help="Text encoding of the holder file (default: detected)."),
    ] = None,
) -> None:
    """Issue certificates to the holders in a file and write them to a folder."""
    people = _read_holders(holders, encoding=encoding)
    out.mkdir(parents=True, exist_ok=True)
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            issued = service.issue_certs(as_dept, cert_type, people, valid_days=days)
            dept = _department(ctx, as_dept)
        else:
            issued = service.issue(as_dept, cert_type, people, valid_days=days)
            dept = service.node.store.get("dept", as_dept) or {}
    # Imported here: the image and PDF libraries are slow to load.
    from govchain.certs.card import card_pdf
    from govchain.certs.images import qr_png, qr_svg

    for cert in issued:
        (out / f"{cert.id}.txt").write_text(cert.qr_text + "\n", "ascii")
        if images:
            (out / f"{cert.id}.png").write_bytes(qr_png(cert.qr_text))
            (out / f"{cert.id}.svg").write_text(qr_svg(cert.qr_text), "utf-8")
            (out / f"{cert.id}.pdf").write_bytes(
                card_pdf(cert, issuer_name=dept.get("name", ""))
            )
    console.print(f"issued {len(issued)} {cert_type} certificates into {out}")


def _department(ctx: typer.Context, dept_id: str) -> dict[str, Any]:
    """Return a department's record from the ledger, or {} when it has none."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        record: dict[str, Any] = store.get("dept", dept_id) or {}
    finally:
        store.close()
    return record


# -- status ---------------------------------------------------------------------


@app.command()
def status(
    ctx: typer.Context,
    cert_id: Annotated[str, typer.Argument(help="Certificate id (32 hex characters).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a certificate's status on the ledger: valid, suspended, revoked or expired."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        record = certificate_status(store, cert_id, now=int(time.time()))
    finally:
        store.close()
    if as_json:
        print_json(record)
        return
    console.print(
        f"{record['id']}: {record['status']}"
        + (f" ({record['reason']})" if record["reason"] else "")
        + f", {record['type']} by {record['issuer']}, valid until {iso_time(record['expires_at'])}"
    )


def _set_status(
    ctx: typer.Context, cert_id: str, as_dept: str, new: str, reason: str
) -> None:
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            service.set_cert_status(as_dept, cert_id, new, reason)
        else:
            service.set_status(as_dept, cert_id, new, reason)
    console.print(f"certificate {cert_id} is now {new}")


@app.command()
def suspend(ctx: typer.Context, cert_id: str, as_dept: AsDept, reason: Reason) -> None:
    """Suspend a certificate until it is reinstated."""
    _set_status(ctx, cert_id, as_dept, "suspended", reason)


@app.command()
def reinstate(
    ctx: typer.Context, cert_id: str, as_dept: AsDept, reason: Reason
) -> None:
    """Make a suspended certificate valid again."""
    _set_status(ctx, cert_id, as_dept, "valid", reason)


@app.command()
def revoke(ctx: typer.Context, cert_id: str, as_dept: AsDept, reason: Reason) -> None:
    """Revoke a certificate for good."""
    _set_status(ctx, cert_id, as_dept, "revoked", reason)


@app.command()
def lookup(
    ctx: typer.Context,
    as_dept: AsDept,
    id_format: Annotated[
        str, typer.Option(help="cn-resident-id or cn-uscc.")
    ] = "cn-resident-id",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find certificates by ID number, read from standard input (never an argument).

    The number stays out of the shell history; the lookup is recorded with the
    department that asked.
    """
    if sys.stdin.isatty():
        number = typer.prompt("ID number", hide_input=True)
    else:
        number = sys.stdin.readline().strip()
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            found = service.lookup_certs(as_dept, number, id_format=id_format)
        else:
            found = service.lookup(
                number, requester=as_dept, client="cli", id_format=id_format
            )
    if as_json:
        print_json([e.to_dict() for e in found])
        return
    rows = [
        [e.cert_id, e.masked_name, e.type, e.issuer, iso_time(e.exp)] for e in found
    ]
    print_table("certificates", ["id", "holder", "type", "issuer", "valid until"], rows)


# -- exports ----------------------------------------------------------------------


def _write(document: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, "utf-8")
        err_console.print(f"wrote {out}")


@trust_app.command("export")
def trust_export(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Output file.")] = None,
) -> None:
    """Export the trust list (issuers, keys, templates), signed by the operator."""
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            document = service.cert_trust_list(_operator(ctx))
        else:
            document = service.trust_list()
    _write(document, out)


@trust_app.command("operator-key")
def trust_operator_key(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Output file.")] = None,
) -> None:
    """Write the operator's public key, which offline verifiers pin with --operator-key."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        operator, key = operator_key_of(store)
    finally:
        store.close()
    kid = PublicKey.from_b64(key).kid
    text = f"# govchain operator key of {operator} (kid {kid})\n{key}\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, "ascii")
        err_console.print(f"wrote {out}")


@revocations_app.command("export")
def revocations_export(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(help="First sequence number to include.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Output file.")] = None,
) -> None:
    """Export revocation entries from `--since` on, signed by the operator."""
    with _service(ctx) as service:
        if isinstance(service, ApiClient):
            document = service.cert_revocation_list(_operator(ctx), since)
        else:
            document = service.revocation_list(since)
    _write(document, out)


# -- verification -------------------------------------------------------------------


#: Endings that mark an argument of `verify` as a file name rather than QR text.
FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".txt", ".pdf")
#: A URI scheme such as `https:`. QR codes often hold URLs, which contain `/`
#: but are text. A one-letter scheme does not count, because `C:` starts a
#: Windows path.
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")


def _looks_like_path(value: str) -> bool:
    """Return whether `verify` reads `value` as a file name."""
    if value.startswith(("GC1:", "HC1:")) or _URI_SCHEME.match(value):
        return False
    separators = {os.sep, "/", os.altsep or os.sep}
    return any(sep in value for sep in separators) or value.lower().endswith(
        FILE_SUFFIXES
    )


def _read_input(value: str) -> str:
    """Return the QR text of `verify`'s argument: the text, a text file or an image.

    Raises `ConfigError` (exit 2) for an empty argument, a directory, and a
    file name that does not exist, so a typing mistake is not reported as an
    invalid certificate.
    """
    if not value.strip():
        raise ConfigError(
            "no certificate given: pass the QR text, a file with the text or a QR "
            "image file"
        )
    if value.startswith(("GC1:", "HC1:")):
        # QR text, never a file name: base45 text may contain '/', and asking
        # the file system about it fails with "File name too long".
        return strip_scanner_newline(value)
    path = Path(value)
    if len(value) < 4096 and path.is_dir():
        raise ConfigError(
            f"{value} is a directory; pass one certificate file (QR text or image)",
            path=value,
        )
    if len(value) < 4096 and path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"certificate file {value} is unreadable: {exc.strerror}", path=value
            ) from exc
        if data[:4] in (b"GC1:", b"HC1:"):
            return strip_scanner_newline(data.decode("ascii", errors="replace"))
        from govchain.certs.images import decode_image_file

        return decode_image_file(path)
    if _looks_like_path(value):
        raise ConfigError(
            f"certificate file {value} not found; check the path, or pass the QR "
            "text itself (it starts with GC1: or HC1:)",
            path=value,
        )
    return strip_scanner_newline(value)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is unreadable: {exc}", path=str(path)) from exc


def _operator_key(ctx: typer.Context, value: str | None, what: str) -> str:
    """Return the operator's base64 public key that `what` must be signed with.

    `value` is the `--operator-key` option: a file holding the key, or the key
    itself. Without it the key comes from the ledger of the node home, if one
    is set. A list checked only against the key inside it would vouch for
    itself, so without either the command fails.
    """
    if value is not None:
        return _read_operator_key(value)
    state: CliState = ctx.obj
    if state.home_path is None and not os.environ.get(HOME_ENV):
        raise ConfigError(
            f"the {what}'s signature was not checked: pass --operator-key FILE "
            "(the operator's public key, written by `govchain cert trust-list "
            "operator-key` on a node of the consortium) or --home DIR of a node "
            f"of the consortium (or set {HOME_ENV})"
        )
    store = state.read_store()
    try:
        _operator, key = operator_key_of(store)
    finally:
        store.close()
    return key


def _read_operator_key(value: str) -> str:
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        try:
            lines = path.read_text("ascii").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"operator key file {value} is unreadable: {exc}", path=value
            ) from exc
        found = [line.strip() for line in lines if line.strip()[:1] not in ("", "#")]
        text = found[0] if len(found) == 1 else ""
        source = f"operator key file {value}"
    else:
        text = value.strip()
        source = f"--operator-key {value!r}"
    try:
        return PublicKey.from_b64(text).to_b64()
    except KeyFormatError as exc:
        raise ConfigError(
            f"{source} is neither a file with one base64 Ed25519 public key nor "
            "such a key; write it with `govchain cert trust-list operator-key`",
            path=value,
        ) from exc


def _trust(
    ctx: typer.Context,
    trust_certs: list[Path],
    trust_list: Path | None,
    revocations: list[Path],
    operator_key: str | None,
) -> TrustStore:
    if trust_certs:
        # NOTE: an X.509 certificate's own validity period and key usage are
        # not checked; those are EU DCC rules outside this verifier.
        trust = TrustStore(source="--trust-cert files")
        for path in trust_certs:
            trust.add_foreign_key(load_trust_file(path), allow_unprotected_alg=True)
    elif trust_list is not None:
        pinned = _operator_key(ctx, operator_key, "trust list")
        trust = read_trust_list(_load_json(trust_list), operator_key=pinned)
    else:
        state: CliState = ctx.obj
        store = state.read_store()
        try:
            trust = trust_from_state(store)
        finally:
            store.close()
    for path in revocations:
        pinned = _operator_key(ctx, operator_key, "revocation list")
        trust.apply_revocations(
            read_revocation_list(_load_json(path), operator_key=pinned)
        )
    return trust


@app.command()
def verify(
    ctx: typer.Context,
    qr: Annotated[
        str, typer.Argument(help="QR text, or a file with the text or a QR image.")
    ],
    trust_cert: Annotated[
        list[Path] | None,
        typer.Option(
            help="X.509 certificate or public key (PEM or DER) to trust; repeat."
        ),
    ] = None,
    trust_list: Annotated[
        Path | None, typer.Option(help="Signed trust list (JSON).")
    ] = None,
    revocations: Annotated[
        list[Path] | None,
        typer.Option("--revocation-list", help="Signed revocation list; repeat."),
    ] = None,
    operator_key: Annotated[
        str | None,
        typer.Option(
            help="Operator's Ed25519 public key the lists must be signed with: a "
            "file holding it in base64, or the base64 itself (default: from the "
            "node home's ledger)."
        ),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Validation time: unix seconds or ISO 8601.")
    ] = None,
    skew: Annotated[int, typer.Option(help="Clock-skew allowance in seconds.")] = 300,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify a certificate offline; exit 0 only when it is valid.

    Without --trust-cert or --trust-list the ledger of the node home is the trust
    source. With --trust-list and no --revocation-list the revocation status is
    not checked, and the output states that.
    """
    # The argument is read first, so a mistyped file name is reported as such
    # even when the trust options are wrong too.
    text: str | None = None
    try:
        text = _read_input(qr)
    except CertificateError as exc:
        # Only reading an image raises; the verifier itself returns a verdict.
        verdict = Verdict(code=exc.code, message=str(exc), steps={"image": False})
    trust = _trust(ctx, trust_cert or [], trust_list, revocations or [], operator_key)
    moment = int(time.time()) if at is None else _parse_time(at)
    if text is not None:
        verdict = verify_text(text, trust, at=moment, skew=skew)
    if as_json:
        print_json(verdict.to_dict())
    elif verdict.valid:
        assert verdict.claims is not None
        c = verdict.claims
        console.print(
            f"VALID: {c.type or 'EU DCC'} certificate by {c.issuer}, valid until {iso_time(c.expires_at)}"
        )
        if "status" in verdict.skipped:
            console.print(
                "  revocation not checked: no revocation list was given, so a "
                "revoked or suspended certificate also shows VALID; pass "
                "--revocation-list FILE",
                highlight=False,
            )
        for name, value in c.claims.items():
            console.print(f"  {name}: {value}")
    else:
        err_console.print(
            f"INVALID ({verdict.code}): {verdict.summary}", highlight=False
        )
        err_console.print(f"  {verdict.message}", highlight=False)
    raise typer.Exit(0 if verdict.valid else 1)
