"""`govchain data`: import, validate, clean and classify data.

`govchain data validate FILE --standard STANDARD.json` exits with 0 when every
row is valid (warnings allowed) and 1 when any finding is an error. An
unreadable file or an invalid standard raises a govchain error, which
`govchain.cli.main` turns into a message and exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from govchain.catalog import service as catalog_service
from govchain.cli._context import CliState, console, err_console, print_json
from govchain.cli._remote import ApiClient
from govchain.datasets import DatasetStore
from govchain.errors import ConfigError, GovchainError, ValidationError
from govchain.governance import classify as classify_rules
from govchain.governance import service as steward
from govchain.governance.cleaning import load_rule_set
from govchain.governance.personal_data import mask_personal_data
from govchain.standards import (
    Standard,
    build_report,
    load_standard,
    registry,
    render_json,
    render_rich,
    report_from_dict,
    validate_table,
)
from govchain.standards._handlers import REFERENCE_RE
from govchain.standards.report import note_from_dict
from govchain.tabular import read_table

app = typer.Typer(
    help="Check data files against data standards (Table Schema).",
    no_args_is_help=True,
)


#: Options for the header's place, in sheets whose header the reader does not find.
HeaderRow = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        min=0,
        help="Row number where the header starts (1 is the first row; 0: no "
        "header). Found near the top when omitted.",
    ),
]
HeaderRows = Annotated[
    int | None,
    typer.Option(
        "--header-rows",
        min=1,
        help="Number of rows the header spans, such as 2 for group labels over "
        "column names. One, extended over merged labels, when omitted.",
    ),
]


@app.callback()
def data() -> None:
    """Check data files against data standards (Table Schema)."""


def _is_reference(standard: str) -> bool:
    """Return whether `standard` is a `NAME@VERSION` that names no file."""
    return not Path(standard).exists() and REFERENCE_RE.match(standard) is not None


def _load_schema(ctx: typer.Context, standard: str) -> Standard:
    """Return a standard from a Table Schema file, or from the ledger's registry
    when `standard` is a `NAME@VERSION` that names no file."""
    if not _is_reference(standard):
        if not Path(standard).exists():
            raise ConfigError(
                f"--standard {standard}: no such file; pass a Table Schema JSON "
                "file or a registered standard as NAME@VERSION (`govchain data "
                "standard list` shows them)"
            )
        return load_standard(Path(standard))
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    store = state.read_store()
    try:
        return registry.standard_of(registry.get_standard(store, standard))
    finally:
        store.close()


@app.command()
def validate(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Data file (.csv, .tsv, .xlsx, .xlsm, .xlsb, .xls, .ods)."),
    ],
    standard: Annotated[
        str,
        typer.Option(
            "--standard",
            help="Data standard: a Table Schema JSON file, or NAME@VERSION of a "
            "standard registered on the ledger of the node home.",
        ),
    ],
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Worksheet name for workbooks.")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Text encoding of a .csv or .tsv file, a Python codec name such "
            "as gb18030 or latin-1; detected when omitted.",
        ),
    ] = None,
    header_row: HeaderRow = None,
    header_rows: HeaderRows = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the quality report as canonical JSON, findings included.",
        ),
    ] = False,
) -> None:
    """Validate a data file against a standard and print its quality report.

    With --json, a file or standard that cannot be read prints a JSON object
    with `error` and `reason` instead of a report, and the exit code is 2.
    """
    try:
        schema = _load_schema(ctx, standard)
        with _progress(f"validating {file.name} against {Path(standard).name}"):
            table = read_table(
                file,
                sheet=sheet,
                encoding=encoding,
                header_row=header_row,
                header_rows=header_rows,
            )
            report = build_report(validate_table(table, schema))
    except GovchainError as exc:
        if not as_json:
            raise
        print_json({"error": str(exc), "reason": getattr(exc, "reason", None)})
        raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.buffer.write(render_json(report) + b"\n")
        sys.stdout.flush()
    else:
        console.print(render_rich(report))
    if not report.valid:
        raise typer.Exit(1)


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="Data file (.csv, .tsv, .xlsx, .xlsm, .xlsb, .xls, .ods)."),
    ],
    as_dept: Annotated[
        str, typer.Option("--as", help="Owner department (hosted on this node).")
    ],
    resource: Annotated[str, typer.Option("--resource", help="Resource id.")],
    standard: Annotated[
        str | None,
        typer.Option(
            "--standard",
            help="Data standard to check the rows against: a Table Schema JSON "
            "file, or NAME@VERSION of a registered standard.",
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Worksheet name for workbooks.")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Text encoding of a .csv or .tsv file, a Python codec name such "
            "as gb18030 or latin-1; detected when omitted.",
        ),
    ] = None,
    header_row: HeaderRow = None,
    header_rows: HeaderRows = None,
) -> None:
    """Import a data file as a new version of a resource, with its quality report.

    The version records the raw file's hash and, with --standard, the standard's
    hash and the quality report's hash and score. Nothing is recorded when the
    file cannot be read.
    """
    schema = None if standard is None else _load_schema(ctx, standard)
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        if standard is not None and not _is_reference(standard):
            raise ConfigError(
                f"--standard {standard}: the running server takes only a registered "
                "standard NAME@VERSION; register the file with `govchain data "
                "standard register` first, or stop the server"
            )
        with _progress(f"importing {mask_personal_data(file.name)}"):
            sent = node.import_data(
                as_dept,
                resource,
                file,
                standard=standard,
                sheet=sheet,
                encoding=encoding,
                header_row=header_row,
                header_rows=header_rows,
            )
        version_id, rows = sent["version"], sent["rows"]
        report = None if sent["report"] is None else report_from_dict(sent["report"])
        notes = tuple(note_from_dict(n) for n in sent.get("notes", ()))
    else:
        try:
            with _progress(f"importing {mask_personal_data(file.name)}"):
                result = catalog_service.import_version(
                    node,
                    DatasetStore(node.home.path / "objects"),
                    as_dept,
                    resource,
                    file,
                    standard=schema,
                    sheet=sheet,
                    encoding=encoding,
                    header_row=header_row,
                    header_rows=header_rows,
                )
        finally:
            node.close()
        version_id, rows, report = result.version_id, result.rows, result.report
        notes = result.notes
    console.print(
        f"imported {mask_personal_data(file.name)} as {version_id}: {rows} rows"
    )
    if report is not None:
        # The report lists the reader's notes with its findings.
        console.print(render_rich(report))
    elif notes:
        console.print(f"reader notes ({len(notes)}):")
        for note in notes:
            console.print(
                f"  {note.place(file.name)}: {note.severity} {note.kind}: "
                f"{note.message}",
                highlight=False,
            )


def _overrides(state: CliState, resource: str) -> dict[str, Any]:
    """Return the steward's recorded overrides of `resource`, by field."""
    store = state.read_store()
    try:
        entry = steward.get_classification(store, resource)
    except ValidationError:
        return {}
    finally:
        store.close()
    overrides: dict[str, Any] = entry.get("overrides", {})
    return overrides


def _owner(state: CliState, resource: str) -> str:
    """Return the owner of `resource`, read from the ledger without opening the node."""
    store = state.read_store()
    try:
        return str(catalog_service.get_resource(store, resource)["owner"])
    finally:
        store.close()


@contextmanager
def _progress(description: str) -> Iterator[None]:
    """Show a spinner with the elapsed time on stderr while `description` runs."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        progress.add_task(description, total=None)
        yield


@app.command()
def clean(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    rules: Annotated[
        Path,
        typer.Option("--rules", help="Cleaning rule set: a .json or .toml file."),
    ],
    version: Annotated[
        str | None,
        typer.Option("--version", help="Version to clean; the latest by default."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcome as JSON.")
    ] = False,
) -> None:
    """Clean a version with a rule set into a new version whose parent it is.

    The source version stays as it was. The new version records the rule set's
    name, version and SHA-256 as its transformation.
    """
    rule_set = load_rule_set(rules)
    state: CliState = ctx.obj
    owner = _owner(state, resource)
    node = state.node_or_api()
    with _progress(f"cleaning {resource} with {rule_set.ref}"):
        if isinstance(node, ApiClient):
            done = node.clean(owner, resource, rule_set.to_dict(), version=version)
            done.pop("receipt", None)
        else:
            try:
                outcome = steward.clean_version(
                    node,
                    DatasetStore(node.home.path / "objects"),
                    owner,
                    resource,
                    rule_set,
                    version_id=version,
                )
            finally:
                node.close()
            done = {
                **outcome.to_dict(),
                "rule_set": rule_set.ref,
                "rule_set_hash": rule_set.digest,
            }
    if as_json:
        print_json(done)
        return
    score = done["quality_score"]
    console.print(
        f"cleaned {done['parent']} into {done['version']} with {rule_set.ref} "
        f"(sha256 {rule_set.digest[:12]}): {done['rows_out']} of "
        f"{done['rows_in']} rows kept"
        + ("" if score is None else f", quality score {score}")
    )
    for change in done["changes"]:
        rule = change["rule"]
        if rule["op"] == "dedup":
            console.print(
                f"  dedup by {rule['key'] or 'every field'}: "
                f"{len(change['removed'])} duplicate rows removed"
            )
        else:
            changed = {k: v for k, v in change["changed"].items() if v}
            console.print(f"  {rule['op']}: {changed or 'no cell changed'}")


@app.command()
def classify(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules",
            help="Classification rules (.json or .toml); the four-grade default "
            "when omitted.",
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Version to classify; the latest by default."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the grades without recording them."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the grades as JSON.")
    ] = False,
) -> None:
    """Detect sensitive fields by name and values, grade them, and record the grades.

    The grades go on the ledger and into the catalog entry (field levels and
    kinds, and the resource level, which is the highest field level), so
    deliveries desensitize by them.
    """
    chosen = classify_rules.DEFAULT_RULES
    if rules is not None:
        chosen = classify_rules.load_classification_rules(rules)
    state: CliState = ctx.obj
    owner = _owner(state, resource)
    node = state.node_or_api()
    with _progress(f"classifying {resource} with {chosen.ref}"):
        if isinstance(node, ApiClient):
            document = None if rules is None else chosen.to_dict()
            done = node.classify(
                owner, resource, document, version=version, dry_run=dry_run
            )
            done.pop("receipt", None)
        else:
            try:
                version_id, result = steward.classify_version(
                    node,
                    DatasetStore(node.home.path / "objects"),
                    owner,
                    resource,
                    rules=chosen,
                    version_id=version,
                    record=not dry_run,
                )
            finally:
                node.close()
            done = {"version": version_id, "recorded": not dry_run, **result.to_dict()}
    if as_json:
        print_json(done)
        return
    overrides = _overrides(state, resource)
    table = RichTable(title=f"{done['version']} graded with {done['rules']}")
    for column in ("field", "category", "kind", "level", "evidence", "override"):
        table.add_column(column)
    for grade in done["fields"]:
        override = overrides.get(grade["field"])
        table.add_row(
            grade["field"],
            grade["category"],
            grade["kind"],
            chosen.levels[grade["level"]],
            ", ".join(grade["evidence"]),
            ""
            if override is None
            else f"level {override['level']} kept ({override['reason']})",
        )
    console.print(table)
    console.print(
        f"resource level: {chosen.levels[done['level']]}"
        + (" before the overrides" if overrides else "")
        + ("" if not dry_run else " (dry run, nothing recorded)")
    )


@app.command()
def override(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    field: Annotated[str, typer.Option("--field", help="Field to grade.")],
    level: Annotated[int, typer.Option("--level", help="Level from 1 to 4.")],
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="Why the grade is changed; recorded on the ledger, so name no person.",
        ),
    ],
    category: Annotated[
        str | None, typer.Option("--category", help="New category, such as health.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="New field kind, such as id_number or address."),
    ] = None,
) -> None:
    """Override the grade of one field, with a reason recorded on the ledger."""
    state: CliState = ctx.obj
    owner = _owner(state, resource)
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        entry = node.override_grade(
            owner,
            resource,
            field=field,
            level=level,
            reason=reason,
            category=category,
            kind=kind,
        )
    else:
        try:
            entry = steward.override_grade(
                node,
                owner,
                resource,
                field,
                level=level,
                reason=reason,
                category=category,
                kind=kind,
            )
        finally:
            node.close()
    done = entry["overrides"][field]
    console.print(
        f"{resource} field {field}: level {done['was']} -> {done['level']} "
        f"({done['category']}); resource level {entry['level']}"
    )


standard_app = typer.Typer(
    help="Data standards registered on the ledger by name and version.",
    no_args_is_help=True,
)
app.add_typer(standard_app, name="standard")


@standard_app.command("register")
def standard_register(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Table Schema JSON file.")],
    as_dept: Annotated[
        str, typer.Option("--as", help="Publishing department (hosted on this node).")
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Standard name; the document's `name` by default."),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Standard version; the document's `version` by default."
        ),
    ] = None,
) -> None:
    """Register a data standard as NAME@VERSION, with its SHA-256, on the ledger."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        load_standard(file)
        record = node.register_standard(
            as_dept, file.read_bytes(), name=name, version=version
        )
    else:
        try:
            record = registry.register_standard(
                node, as_dept, file, name=name, version=version
            )
        finally:
            node.close()
    console.print(
        f"registered {record['id']} (sha256 {record['sha256']}, "
        f"{record['field_count']} fields)"
    )


@standard_app.command("list")
def standard_list(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Option("--name", help="Only the versions of this standard.")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the registered data standards."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        found = registry.list_standards(store, name)
    finally:
        store.close()
    if as_json:
        print_json(found)
        return
    table = RichTable(title="data standards")
    for column in ("standard", "title", "fields", "publisher", "sha256"):
        table.add_column(column)
    for record in found:
        table.add_row(
            record["id"],
            record["title"],
            str(record["field_count"]),
            record["publisher"],
            record["sha256"][:16],
        )
    console.print(table)


@standard_app.command("show")
def standard_show(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    document: Annotated[
        bool,
        typer.Option("--document", help="Print the Table Schema document itself."),
    ] = False,
) -> None:
    """Show one registered standard: its record, or its document."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        record = registry.get_standard(store, reference)
    finally:
        store.close()
    if document:
        sys.stdout.write(record["document"].removeprefix("\ufeff"))
        return
    print_json({k: v for k, v in record.items() if k != "document"})
