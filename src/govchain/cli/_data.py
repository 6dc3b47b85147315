"""`govchain data`: check data files against data standards.

`govchain data validate FILE --standard STANDARD.json` exits with 0 when every
row is valid (warnings allowed) and 1 when any finding is an error. An
unreadable file or an invalid standard raises a govchain error, which
`govchain.cli.main` turns into a message and exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from govchain.catalog import service as catalog_service
from govchain.cli._context import CliState, console
from govchain.datasets import DatasetStore
from govchain.standards import (
    build_report,
    load_standard,
    render_json,
    render_rich,
    validate_table,
)
from govchain.tabular import read_table

app = typer.Typer(
    help="Check data files against data standards (Table Schema).",
    no_args_is_help=True,
)


@app.callback()
def data() -> None:
    """Check data files against data standards (Table Schema)."""


@app.command()
def validate(
    file: Annotated[
        Path, typer.Argument(help="Data file (.csv, .tsv, .xlsx, .xls, .ods).")
    ],
    standard: Annotated[
        Path,
        typer.Option("--standard", help="Data standard: a Table Schema JSON file."),
    ],
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Worksheet name for workbooks.")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the quality report as canonical JSON, findings included.",
        ),
    ] = False,
) -> None:
    """Validate a data file against a standard and print its quality report."""
    schema = load_standard(standard)
    table = read_table(file, sheet=sheet)
    report = build_report(validate_table(table, schema))
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
        Path, typer.Argument(help="Data file (.csv, .tsv, .xlsx, .xls, .ods).")
    ],
    as_dept: Annotated[
        str, typer.Option("--as", help="Owner department (hosted on this node).")
    ],
    resource: Annotated[str, typer.Option("--resource", help="Resource id.")],
    standard: Annotated[
        Path | None,
        typer.Option("--standard", help="Data standard to check the rows against."),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Worksheet name for workbooks.")
    ] = None,
) -> None:
    """Import a data file as a new version of a resource, with its quality report.

    The version records the raw file's hash and, with --standard, the standard's
    hash and the quality report's hash and score. Nothing is recorded when the
    file cannot be read.
    """
    schema = load_standard(standard) if standard is not None else None
    state: CliState = ctx.obj
    node = state.open_node()
    try:
        result = catalog_service.import_version(
            node,
            DatasetStore(node.home.path / "objects"),
            as_dept,
            resource,
            file,
            standard=schema,
            sheet=sheet,
        )
    finally:
        node.close()
    console.print(f"imported {file.name} as {result.version_id}: {result.rows} rows")
    if result.report is not None:
        console.print(render_rich(result.report))
