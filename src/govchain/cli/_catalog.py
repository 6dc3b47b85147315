"""`govchain catalog`: register, import, publish and search data resources."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from govchain.catalog import service
from govchain.catalog._handlers import SHARING_TYPES
from govchain.cli._context import (
    CliState,
    console,
    counted,
    print_json,
    print_table,
)
from govchain.cli._remote import ApiClient
from govchain.consortium._model import LEVELS
from govchain.datasets import DatasetStore
from govchain.governance.personal_data import mask_personal_data
from govchain.ledger.apply import DEPT_NS
from govchain.tabular import read_table

app = typer.Typer(
    help="The catalog chain: data resources and their versions.", no_args_is_help=True
)

#: Refused rows of a catalog import printed as a table. `--json` lists every one.
REFUSED_ROWS_PRINTED = 50
#: The highest sensitivity level (levels run from 1, public, to 4).
MAX_LEVEL = 4

AsDept = Annotated[
    str, typer.Option("--as", help="Department that signs (hosted on this node).")
]


@app.command()
def register(
    ctx: typer.Context,
    as_dept: AsDept,
    title: Annotated[str, typer.Option(help="Resource title.")],
    level: Annotated[int, typer.Option(help="Sensitivity level, 1 (public) to 4.")],
    sharing: Annotated[
        str, typer.Option(help="unconditional, conditional or not_shared.")
    ],
    description: Annotated[str, typer.Option(help="What the data is.")] = "",
    field: Annotated[
        list[str] | None, typer.Option(help="A field as NAME[:TYPE]; repeat.")
    ] = None,
    category: Annotated[str, typer.Option(help="Catalog category.")] = "",
    standard: Annotated[str, typer.Option(help="Data standard reference.")] = "",
    update_frequency: Annotated[str, typer.Option(help="Such as daily, monthly.")] = "",
    tag: Annotated[list[str] | None, typer.Option(help="A tag; repeat.")] = None,
) -> None:
    """Register a data resource owned by the signing department."""
    fields = _parse_fields(field or [])
    catalog_fields: dict[str, Any] = {
        "title": title,
        "description": description,
        "fields": fields,
        "level": level,
        "sharing": sharing,
        "category": category,
        "standard": standard,
        "update_frequency": update_frequency,
        "tags": tag or [],
    }
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        resource_id = node.register_resource(as_dept, **catalog_fields)
    else:
        try:
            resource_id = service.register_resource(node, as_dept, **catalog_fields)
        finally:
            node.close()
    console.print(f"registered {resource_id}")


def _parse_fields(specs: list[str]) -> list[dict[str, str]]:
    """Turn `NAME[:TYPE]` options into catalog field descriptions."""
    fields = []
    for spec in specs:
        name, _, kind = spec.partition(":")
        fields.append({"name": name, "type": kind or "string", "description": ""})
    return fields


@app.command()
def update(
    ctx: typer.Context,
    as_dept: AsDept,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(help="Replace the fields: NAME[:TYPE], repeated for each field."),
    ] = None,
    level: Annotated[
        int | None, typer.Option(help="Sensitivity level, 1 to 4.")
    ] = None,
    sharing: Annotated[
        str | None, typer.Option(help="unconditional, conditional or not_shared.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Catalog category.")] = None,
    standard: Annotated[
        str | None, typer.Option(help="Data standard reference.")
    ] = None,
    update_frequency: Annotated[
        str | None, typer.Option(help="Such as monthly.")
    ] = None,
) -> None:
    """Change a resource's catalog entry; only its owner may."""
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("title", title),
            ("description", description),
            ("level", level),
            ("sharing", sharing),
            ("category", category),
            ("standard", standard),
            ("update_frequency", update_frequency),
        )
        if value is not None
    }
    if field:
        changes["fields"] = _parse_fields(field)
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        node.update_resource(as_dept, resource, **changes)
    else:
        try:
            service.update_resource(node, as_dept, resource, **changes)
        finally:
            node.close()
    console.print(f"updated {resource}: {', '.join(sorted(changes)) or 'nothing'}")


@app.command()
def retire(
    ctx: typer.Context,
    as_dept: AsDept,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
) -> None:
    """Retire a resource: it leaves searches and takes no new requests; only its owner may."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        node.call(as_dept, "POST", f"/v1/catalog/resources/{quote(resource)}/retire")
    else:
        try:
            service.retire_resource(node, as_dept, resource)
        finally:
            node.close()
    console.print(f"retired {resource}")


@app.command("import")
def import_catalog(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Catalog spreadsheet (.xls, .xlsx, .csv).")
    ],
    region: Annotated[
        str, typer.Option(help="Region code for agencies admitted as new departments.")
    ],
    level: Annotated[str, typer.Option(help="Level of admitted agencies.")] = "city",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import a whole open-data catalog: agencies become departments, rows resources."""
    if level not in LEVELS:
        raise typer.BadParameter(
            f"{level!r} is not a level; use one of {', '.join(LEVELS)}",
            param_hint="--level",
        )
    state: CliState = ctx.obj
    node = state.open_node()
    try:
        report = service.import_catalog(node, file, region=region, level=level)
    finally:
        node.close()
    if as_json:
        print_json(
            {
                "source": report.source,
                "registered": len(report.registered),
                "admitted": report.admitted,
                "refused": [
                    {"row": r, "column": c, "reason": m} for r, c, m in report.refused
                ],
            }
        )
        return
    console.print(
        f"{report.source}: {len(report.registered)} resources registered, "
        f"{counted(len(report.refused), 'row')} refused, "
        f"{len(report.admitted)} agencies admitted"
    )
    if report.refused:
        printed = report.refused[:REFUSED_ROWS_PRINTED]
        title = "refused rows"
        if len(printed) < len(report.refused):
            title = f"refused rows, first {len(printed)} of {len(report.refused)} (--json lists all)"
        print_table(title, ["row", "column", "reason"], [list(r) for r in printed])


@app.command()
def publish(
    ctx: typer.Context,
    as_dept: AsDept,
    resource: Annotated[str, typer.Option(help="Resource id.")],
    file: Annotated[Path, typer.Argument(help="Data file (.csv, .tsv, .xlsx, .xls).")],
    sheet: Annotated[str | None, typer.Option(help="Sheet name for workbooks.")] = None,
    header_row: Annotated[
        int | None,
        typer.Option(help="Row number of the header (1-based) when it is not found."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of a CSV or TSV file, such as gb18030 or big5."
        ),
    ] = None,
) -> None:
    """Publish a new version of a resource from a data file."""
    # The file name goes on the ledger in the version's transformation.
    service.check_file_name(file.name)
    table = read_table(file, sheet=sheet, header_row=header_row, encoding=encoding)
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        record = service.get_resource(store, resource)
    finally:
        store.close()
    dataset = service.dataset_from_table(record, table)
    raw_hash = hashlib.sha256(file.read_bytes()).hexdigest()
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        version = node.publish_version(
            as_dept,
            resource,
            dataset,
            raw_hash=raw_hash,
            transformation=f"import {file.name}",
        )
    else:
        try:
            version = service.publish_version(
                node,
                DatasetStore(node.home.path / "objects"),
                as_dept,
                resource,
                dataset,
                raw_hash=raw_hash,
                transformation=f"import {file.name}",
            )
        finally:
            node.close()
    console.print(
        f"published {version}: {counted(len(dataset.rows), 'row')}, content hash "
        f"{dataset.content_hash}"
    )


@app.command()
def search(
    ctx: typer.Context,
    keyword: Annotated[
        str, typer.Argument(help="Words to find in title, description, tags, fields.")
    ] = "",
    department: Annotated[str | None, typer.Option(help="Owner department id.")] = None,
    category: Annotated[str | None, typer.Option(help="Category.")] = None,
    sharing: Annotated[str | None, typer.Option(help="Sharing type.")] = None,
    level: Annotated[int | None, typer.Option(help="Sensitivity level.")] = None,
    limit: Annotated[int, typer.Option(help="Most results shown.")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the catalog."""
    _check_filters(sharing=sharing, level=level, limit=limit)
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        if department and store.get(DEPT_NS, department) is None:
            raise typer.BadParameter(
                f"{mask_personal_data(department[:80])!r} is not a member department; "
                "list them with "
                "`govchain consortium list`",
                param_hint="--department",
            )
        found = service.search(
            store,
            service.SearchQuery(
                keyword=keyword,
                department=department,
                category=category,
                sharing=sharing,
                level=level,
            ),
            limit=limit,
        )
    finally:
        store.close()
    if as_json:
        print_json(found)
        return
    print_table(
        f"{len(found)} resources",
        ["id", "title", "owner", "category", "level", "sharing", "versions"],
        [
            [
                r["id"],
                r["title"],
                r["owner"],
                r["category"],
                r["level"],
                r["sharing"],
                r["versions"],
            ]
            for r in found
        ],
    )


def _check_filters(*, sharing: str | None, level: int | None, limit: int) -> None:
    """Raise `typer.BadParameter` for a filter that no resource can match."""
    if sharing is not None and sharing not in SHARING_TYPES:
        raise typer.BadParameter(
            f"{sharing!r} is not a sharing type; use one of {', '.join(SHARING_TYPES)}",
            param_hint="--sharing",
        )
    if level is not None and not 1 <= level <= MAX_LEVEL:
        raise typer.BadParameter(
            f"level {level} does not exist; levels run from 1 to {MAX_LEVEL}",
            param_hint="--level",
        )
    if limit < 1:
        raise typer.BadParameter(
            f"limit {limit} must be 1 or more", param_hint="--limit"
        )


@app.command()
def show(ctx: typer.Context, resource: str) -> None:
    """Show a resource with its versions."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        record = service.get_resource(store, resource)
        record = {**record, "version_list": service.versions(store, resource)}
    finally:
        store.close()
    print_json(record)
