"""`govchain cert`: certificate types, issuers, keys, issuance, status and verification."""

from __future__ import annotations

import csv
import datetime as dt
import json
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
    card_pdf,
    certificate_status,
    decode_image_file,
    qr_png,
    qr_svg,
    read_revocation_list,
    read_trust_list,
    trust_from_state,
    verify_text,
)
from govchain.certs._handlers import KEY_NS, REASON_CODES, TEMPLATE_NS
from govchain.certs.errors import CertificateError
from govchain.certs.keys import load_trust_file
from govchain.certs.qrtext import strip_scanner_newline
from govchain.certs.verify import Verdict, iso_time
from govchain.cli._context import (
    CliState,
    console,
    err_console,
    print_json,
    print_table,
)
from govchain.errors import ConfigError, ValidationError

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
def _service(ctx: typer.Context) -> Iterator[CertificateService]:
    state: CliState = ctx.obj
    # TODO: write commands open the node home directly; while `govchain serve`
    # holds it they fail with the lock error instead of going through the API.
    node = state.open_node()
    service = CertificateService(node)
    try:
        yield service
    finally:
        service.close()
        node.close()


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
        kid = service.create_key(as_dept, valid_days=days, replaces=replaces)
    console.print(f"registered certificate key {kid} of {as_dept}")


@key_app.command("revoke")
def key_revoke(ctx: typer.Context, kid: str, as_dept: AsDept, reason: Reason) -> None:
    """Revoke a signing key: everything it signed fails verification."""
    with _service(ctx) as service:
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


def _read_holders(path: Path) -> list[Holder]:
    """Read holders from JSON (a list of objects) or CSV (UTF-8, a header row).

    Each holder has `holder_id`, `name` and the template's claims; in CSV every
    other column is a claim, and `true`/`false` become booleans.
    """
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"holder file {path} is unreadable: {exc}", path=str(path)
        ) from exc
    if path.suffix.lower() == ".json":
        try:
            rows: list[dict[str, Any]] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"holder file {path} is not JSON: {exc}", path=str(path)
            ) from exc
    else:
        rows = [
            {k: {"true": True, "false": False}.get(v, v) for k, v in row.items()}
            for row in csv.DictReader(text.splitlines())
        ]
    holders = []
    for number, row in enumerate(
        rows, start=2 if path.suffix.lower() != ".json" else 1
    ):
        if not isinstance(row, dict) or not row.get("holder_id") or not row.get("name"):
            raise ValidationError(
                f"{path} row {number}: holder_id and name are required",
                reason="bad-holder",
            )
        claims = {
            k: v for k, v in row.items() if k not in ("holder_id", "name") and v != ""
        }
        holders.append(Holder(str(row["holder_id"]), str(row["name"]), claims))
    return holders


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
) -> None:
    """Issue certificates to the holders in a file and write them to a folder."""
    people = _read_holders(holders)
    out.mkdir(parents=True, exist_ok=True)
    with _service(ctx) as service:
        issued = service.issue(as_dept, cert_type, people, valid_days=days)
        dept = service.node.store.get("dept", as_dept) or {}
    for cert in issued:
        (out / f"{cert.id}.txt").write_text(cert.qr_text + "\n", "ascii")
        if images:
            (out / f"{cert.id}.png").write_bytes(qr_png(cert.qr_text))
            (out / f"{cert.id}.svg").write_text(qr_svg(cert.qr_text), "utf-8")
            (out / f"{cert.id}.pdf").write_bytes(
                card_pdf(cert, issuer_name=dept.get("name", ""))
            )
    console.print(f"issued {len(issued)} {cert_type} certificates into {out}")


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
        _write(service.trust_list(), out)


@revocations_app.command("export")
def revocations_export(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(help="First sequence number to include.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Output file.")] = None,
) -> None:
    """Export revocation entries from `--since` on, signed by the operator."""
    with _service(ctx) as service:
        _write(service.revocation_list(since), out)


# -- verification -------------------------------------------------------------------


def _read_input(value: str) -> str:
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        data = path.read_bytes()
        if data[:4] in (b"GC1:", b"HC1:"):
            return strip_scanner_newline(data.decode("ascii", errors="replace"))
        return decode_image_file(path)
    return strip_scanner_newline(value)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is unreadable: {exc}", path=str(path)) from exc


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
        trust = read_trust_list(_load_json(trust_list), operator_key=operator_key)
    else:
        state: CliState = ctx.obj
        store = state.read_store()
        try:
            trust = trust_from_state(store)
        finally:
            store.close()
    for path in revocations:
        trust.apply_revocations(
            read_revocation_list(_load_json(path), operator_key=operator_key)
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
            help="Operator's Ed25519 public key (base64) the lists must be signed with."
        ),
    ] = None,
    at: Annotated[
        str | None, typer.Option(help="Validation time: unix seconds or ISO 8601.")
    ] = None,
    skew: Annotated[int, typer.Option(help="Clock-skew allowance in seconds.")] = 300,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify a certificate offline; exit 0 only when it is valid.

    Without --trust-cert or --trust-list the ledger of the node home is the trust source.
    """
    trust = _trust(ctx, trust_cert or [], trust_list, revocations or [], operator_key)
    moment = int(time.time()) if at is None else _parse_time(at)
    try:
        verdict = verify_text(_read_input(qr), trust, at=moment, skew=skew)
    except CertificateError as exc:
        # Only reading an image raises; the verifier itself returns a verdict.
        verdict = Verdict(code=exc.code, message=str(exc), steps={"image": False})
    if as_json:
        print_json(verdict.to_dict())
    elif verdict.valid:
        assert verdict.claims is not None
        c = verdict.claims
        console.print(
            f"VALID: {c.type or 'EU DCC'} certificate by {c.issuer}, valid until {iso_time(c.expires_at)}"
        )
        for name, value in c.claims.items():
            console.print(f"  {name}: {value}")
    else:
        err_console.print(
            f"INVALID ({verdict.code}): {verdict.summary}", highlight=False
        )
        err_console.print(f"  {verdict.message}", highlight=False)
    raise typer.Exit(0 if verdict.valid else 1)
