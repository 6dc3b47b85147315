"""`govchain archive`: ingest, audit, export, prove and dispose of archive items.

`govchain archive audit` exits with 0 only when every copy of every item is
intact after the run (repaired copies count as intact) and with 1 otherwise.
`verify-item` exits with 1 when the proof does not verify. Errors in the input
or the set-up exit with 2 through `govchain.cli.main`.

While `govchain serve` holds the node home, `ingest`, `audit` (when it records
its result) and `dispose` go through the server's API; the other commands read
the ledger and the archive index directly, which works while a server writes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from govchain.archive import (
    Archive,
    SearchQuery,
    appraisal,
    dispose,
    verify_item_proof,
)
from govchain.archive.anchoring import file_sha256
from govchain.archive.config import load_config
from govchain.archive.ingest import IngestReport, collect_sources
from govchain.archive.store import free_bytes
from govchain.cli._context import (
    CliState,
    console,
    err_console,
    print_json,
    print_table,
)
from govchain.cli._remote import ApiClient
from govchain.errors import (
    ConfigError,
    GovchainError,
    ValidationError,
    VerificationError,
)
from govchain.evidence import read_trust_file
from govchain.evidence.archive_bag import verify_archive_bag
from govchain.evidence.keys import trusted_keys
from govchain.ledger.checkpoint import NoteVerifier

logger = logging.getLogger(__name__)

app = typer.Typer(
    help="The digital archive: replicated files anchored on the ledger.",
    no_args_is_help=True,
)

_DURATION_RE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _archive(state: CliState) -> Archive:
    return Archive(state.home(need_keys=False))


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Files, folders or BagIt bags to archive.")
    ],
    meta: Annotated[
        Path | None,
        typer.Option(help="Metadata file (CSV or JSON, one row per file)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Store files in every replica and anchor them on the ledger in batches."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        report = _ingest_remote(state, node, paths, meta)
    else:
        try:
            with _archive(state) as archive, Progress(console=err_console) as bar:
                task = bar.add_task("ingesting", total=None)
                report = archive.ingest(
                    node, paths, meta, progress=lambda n: bar.advance(task, n)
                )
        finally:
            node.close()
    if as_json:
        print_json(report.to_dict())
        return
    console.print(
        f"archived {report.items} items in {len(report.batches)} anchored batches "
        f"({report.skipped} already archived, {report.new_objects} new objects)"
    )
    for batch in report.batches:
        console.print(f"  batch {batch}")


def _ingest_remote(
    state: CliState, client: ApiClient, paths: list[Path], meta: Path | None
) -> IngestReport:
    """Upload the files to the server, which stores and anchors them."""
    sources = collect_sources(paths, meta)
    department = load_config(state.home(need_keys=False)).department
    with Progress(console=err_console) as bar:
        task = bar.add_task("ingesting", total=len(sources))
        return client.ingest_archive(
            department, sources, progress=lambda n: bar.advance(task, n)
        )


def _parse_every(text: str) -> int:
    match = _DURATION_RE.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValidationError(
            f"--every {text!r} is not a duration; use a number with s, m, h or d, "
            "such as 12h or 1d"
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def _print_audit(report: dict[str, Any], audit_id: str | None, seconds: float) -> None:
    """Print an audit report in the form of `AuditReport.to_dict()`."""
    console.print(
        f"audit {audit_id or '(not recorded)'}: {report['result']}: "
        f"{report['items']} items, {report['copies']} copies in "
        f"{report['replicas']} replicas, {report['intact']} intact, "
        f"{report['altered']} altered, {report['missing']} missing, "
        f"{report['repaired']} repaired "
        f"({report['bytes_read'] / 1e6:.1f} MB in {seconds:.1f} s)"
    )
    for finding in report["findings"]:
        if not finding["repaired"]:
            console.print(
                f"  [yellow]{finding['state']}[/yellow]: {finding['sha256']} in "
                f"replica {finding['replica']}"
            )
    lost = report["lost_items"]
    if lost:
        err_console.print(
            f"[bold red]LOST: {len(lost)} items have no intact copy "
            "left in any replica; restore them from a backup:[/bold red]"
        )
        for reference in lost:
            err_console.print(f"[bold red]  {reference}[/bold red]")


@dataclass(frozen=True)
class _AuditRun:
    """One audit's report as `AuditReport.to_dict()`, its id and duration."""

    report: dict[str, Any]
    audit_id: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return bool(self.report["result"] in ("intact", "repaired"))


def _audit_once(state: CliState, *, repair: bool, record: bool) -> _AuditRun:
    if not record:
        with _archive(state) as archive:
            report, audit_id = archive.audit(None, repair=repair)
        return _AuditRun(report.to_dict(), audit_id, report.seconds)
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        department = load_config(state.home(need_keys=False)).department
        done = node.audit_archive(department, repair=repair)
        audit_id = done.pop("audit")
        done.pop("ok")
        seconds = float(done.pop("seconds", 0.0))
        return _AuditRun(done, audit_id, seconds)
    try:
        with _archive(state) as archive:
            report, audit_id = archive.audit(node, repair=repair)
    finally:
        node.close()
    return _AuditRun(report.to_dict(), audit_id, report.seconds)


@app.command()
def audit(
    ctx: typer.Context,
    repair: Annotated[
        bool, typer.Option(help="Rewrite damaged copies from intact ones.")
    ] = False,
    record: Annotated[
        bool, typer.Option(help="Record the result on the ledger.")
    ] = True,
    every: Annotated[
        str | None,
        typer.Option(help="Run again after this long, until stopped: 30m, 12h, 1d."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Re-hash every copy of every item; report altered, missing and lost copies."""
    state: CliState = ctx.obj
    interval = _parse_every(every) if every else None
    while True:
        try:
            run = _audit_once(state, repair=repair, record=record)
        except GovchainError as exc:
            if interval is None:
                raise
            # A scheduled audit keeps its schedule when one run fails, for
            # example while a server holds the node home.
            logger.warning("scheduled archive audit failed: %s", exc)
            err_console.print(f"error: {exc}")
            time.sleep(interval)
            continue
        if as_json:
            print_json({"audit": run.audit_id, "ok": run.ok, **run.report})
        else:
            _print_audit(run.report, run.audit_id, run.seconds)
        if interval is None:
            raise typer.Exit(0 if run.ok else 1)
        next_run = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=interval)
        err_console.print(f"next audit at {next_run:%Y-%m-%d %H:%M} UTC")
        time.sleep(interval)


@app.command()
def export(
    ctx: typer.Context,
    item: Annotated[
        str, typer.Argument(help="Item (fonds/volume/item) or volume (fonds/volume).")
    ],
    out: Annotated[Path, typer.Option(help="Directory of the bag to write.")],
) -> None:
    """Write an item or a volume as a BagIt bag with its evidence."""
    state: CliState = ctx.obj
    ledger = state.read_store()
    try:
        with _archive(state) as archive:
            done = archive.export(ledger, item, out)
    finally:
        ledger.close()
    console.print(
        f"wrote bag {out}: {done['items']} items; check it offline with "
        f"`govchain evidence verify {out} --trust TRUST_FILE`"
    )


@app.command()
def proof(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="Item reference fonds/volume/item.")],
    out: Annotated[Path, typer.Option(help="Proof file (JSON) to write.")],
) -> None:
    """Write the self-contained proof of one item for `verify-item`."""
    state: CliState = ctx.obj
    ledger = state.read_store()
    try:
        with _archive(state) as archive:
            document = archive.proof(ledger, item)
    finally:
        ledger.close()
    out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    console.print(f"wrote proof of {item} to {out}")


def _trusted(state: CliState, trust: Path | None) -> list[NoteVerifier]:
    if trust is not None:
        return read_trust_file(trust)
    try:
        ledger = state.read_store()
    except ConfigError as exc:
        raise ConfigError(
            f"no trust file given and no node home to read keys from ({exc}); pass "
            "--trust FILE with the verifier keys of the ledger"
        ) from exc
    try:
        keys = trusted_keys(ledger)
    finally:
        ledger.close()
    err_console.print("note: trusting the keys of the local node home")
    return keys


@app.command("verify-item")
def verify_item(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The file to check.")],
    proof_file: Annotated[
        Path, typer.Option("--proof", help="Item proof from `govchain archive proof`.")
    ],
    trust: Annotated[
        Path | None,
        typer.Option(help="Trust file of verifier keys; default: the node home's."),
    ] = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Require the proof to be for this checkpoint note."),
    ] = None,
    min_signatures: Annotated[
        int, typer.Option(help="Trusted signatures the checkpoint needs.")
    ] = 1,
    as_json: JsonOption = False,
) -> None:
    """Check offline that FILE is an archived item, unaltered since anchoring."""
    state: CliState = ctx.obj
    try:
        document = json.loads(proof_file.read_text("utf-8"))
        note = checkpoint.read_bytes() if checkpoint is not None else None
        digest, _size = file_sha256(file)
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"cannot read the file, proof or checkpoint: {exc}"
        ) from exc
    if not isinstance(document, dict):
        raise VerificationError(f"proof {proof_file} is not a JSON object")
    result = verify_item_proof(
        document,
        digest,
        _trusted(state, trust),
        min_signatures=min_signatures,
        checkpoint=note,
    )
    if as_json:
        print_json({"ok": True, **result})
        return
    console.print(f"item verifies: {result['item']} ({file})")
    console.print(f"  sha256 {result['sha256']}, {result['size']} bytes")
    console.print(
        f"  leaf {result['leaf_index']} of a batch of {result['batch_size']}, "
        f"anchored by {result['department']} in block {result['height']}"
    )
    console.print(f"  checkpoint signed by {', '.join(result['checkpoint_signers'])}")


def verify_bag(path: Path, trust: Path, *, min_signatures: int, as_json: bool) -> None:
    """Verify an exported archive bag (called by `govchain evidence verify`)."""
    result = verify_archive_bag(
        path, read_trust_file(trust), min_signatures=min_signatures
    )
    if as_json:
        print_json({"ok": True, **result})
        return
    console.print(f"archive bag verifies: {len(result['items'])} items in {path}")
    for reference in result["items"]:
        console.print(f"  {reference}")
    console.print(f"  anchored by {len(result['anchors'])} transactions")
    console.print(f"  checkpoint signed by {', '.join(result['checkpoint_signers'])}")


def _print_items(title: str, rows: list[dict[str, Any]]) -> None:
    print_table(
        title,
        ["item", "title", "date", "retention", "classification", "status"],
        [
            [
                r["item"],
                r["title"],
                r["date"],
                r["retain_until"],
                r["classification"],
                r["status"],
            ]
            for r in rows
        ],
    )


@app.command()
def search(
    ctx: typer.Context,
    keyword: Annotated[
        str, typer.Option(help="Words in title, creator or notes.")
    ] = "",
    fonds: Annotated[str, typer.Option(help="Fonds code.")] = "",
    volume: Annotated[str, typer.Option(help="Volume number.")] = "",
    classification: Annotated[str, typer.Option(help="Security classification.")] = "",
    date_from: Annotated[str, typer.Option("--from", help="Earliest date.")] = "",
    date_to: Annotated[str, typer.Option("--to", help="Latest date.")] = "",
    limit: Annotated[int, typer.Option(help="Maximum rows shown.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Search items by metadata; every filter given must match."""
    state: CliState = ctx.obj
    query = SearchQuery(
        keyword=keyword,
        fonds=fonds,
        volume=volume,
        classification=classification,
        date_from=date_from,
        date_to=date_to,
    )
    with _archive(state) as archive:
        rows = archive.search(query, limit=limit)
    if as_json:
        print_json(rows)
        return
    _print_items(f"{len(rows)} items", rows)


@app.command("appraisal")
def appraisal_list(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option(help="Date to judge retention at (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List items whose retention period has ended, for appraisal."""
    state: CliState = ctx.obj
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise ValidationError(f"--as-of {as_of!r} is not a YYYY-MM-DD date") from exc
    with _archive(state) as archive:
        rows = appraisal(archive, day)
    if as_json:
        print_json(rows)
        return
    _print_items(f"{len(rows)} items past their retention period", rows)


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the replicas, their free space, the item count and the latest audits."""
    state: CliState = ctx.obj
    with _archive(state) as archive:
        replicas: list[dict[str, Any]] = [
            {
                "name": r.name,
                "path": str(r.path),
                "free_bytes": free_bytes(r) if r.path.exists() else None,
            }
            for r in archive.config.replicas
        ]
        summary: dict[str, Any] = {
            "department": archive.config.department,
            "items": archive.index.count_items(),
            "replicas": replicas,
            "audits": archive.index.audits(limit=5),
        }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['items']} items, anchored by {summary['department']}, in "
        f"{len(replicas)} replicas"
    )
    for replica in replicas:
        free = replica["free_bytes"]
        space = "missing" if free is None else f"{free / 1e9:.1f} GB free"
        console.print(f"  {replica['name']}: {replica['path']} ({space})")
    for audit in summary["audits"]:
        console.print(f"  audit {audit['id']}: {audit['result']}")


@app.command("dispose")
def dispose_item(
    ctx: typer.Context,
    item: Annotated[str, typer.Argument(help="Item reference fonds/volume/item.")],
    approval: Annotated[
        str,
        typer.Option(help="Reference of the disposal decision (no personal names)."),
    ],
) -> None:
    """Record the disposal of an item on the ledger, then erase its copies."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        department = load_config(state.home(need_keys=False)).department
        done = node.dispose_archive_item(department, item, approval)
    else:
        try:
            with _archive(state) as archive:
                done = dispose(archive, node, item, approval)
        finally:
            node.close()
    console.print(f"disposed of {item}: transaction {done['tx_id']}")
