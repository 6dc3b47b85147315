"""`govchain share`: sharing requests, decisions, grants and deliveries."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from govchain.audit import format_time
from govchain.cli._context import (
    CliState,
    check_output_path,
    console,
    counted,
    print_json,
    print_table,
)
from govchain.cli._remote import ApiClient
from govchain.datasets import DatasetStore
from govchain.sharing import service

app = typer.Typer(
    help="Request, approve, reject, revoke and deliver shared data.",
    no_args_is_help=True,
)

AsDept = Annotated[
    str, typer.Option("--as", help="Department that signs (hosted on this node).")
]


@app.command()
def request(
    ctx: typer.Context,
    as_dept: AsDept,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    fields: Annotated[
        list[str],
        typer.Option(help="Field names, comma-separated; the option may be repeated."),
    ],
    purpose: Annotated[str, typer.Option(help="Why the data is needed.")],
    term_days: Annotated[
        int, typer.Option(help="How long the grant should last, in days.")
    ] = 90,
) -> None:
    """Request access to a resource as a consuming department."""
    names = [f.strip() for item in fields for f in item.split(",") if f.strip()]
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        record = node.request_access(
            as_dept, resource, fields=names, purpose=purpose, term_days=term_days
        )
    else:
        try:
            record = service.request_access(
                node,
                as_dept,
                resource,
                fields=names,
                purpose=purpose,
                term_days=term_days,
            )
        finally:
            node.close()
    console.print(f"request {record['id']}: {record['status']} (rule {record['rule']})")
    for step in record["steps"]:
        days = step["working_days"]
        console.print(
            f"  step: {step['approver']} within {days} working "
            f"{'day' if days == 1 else 'days'}, due {format_time(step['due'])}"
        )
    if record.get("grant"):
        console.print(f"  grant {record['grant']}")


@app.command()
def approve(ctx: typer.Context, as_dept: AsDept, request_id: str) -> None:
    """Approve the current step of a request."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        record = node.approve(as_dept, request_id)
    else:
        try:
            record = service.approve(node, as_dept, request_id)
        finally:
            node.close()
    console.print(
        f"request {request_id}: {record['status']}"
        + (f", grant {record['grant']}" if record.get("grant") else "")
    )


@app.command()
def reject(
    ctx: typer.Context,
    as_dept: AsDept,
    request_id: str,
    reason: Annotated[
        str, typer.Option(help="Why the request is rejected (required).")
    ],
) -> None:
    """Reject a request; the reason is recorded and shown to the consumer."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        node.reject(as_dept, request_id, reason)
    else:
        try:
            service.reject(node, as_dept, request_id, reason)
        finally:
            node.close()
    console.print(f"request {request_id}: rejected")


@app.command()
def revoke(
    ctx: typer.Context,
    as_dept: AsDept,
    grant_id: str,
    reason: Annotated[str, typer.Option(help="Why the grant is revoked.")],
) -> None:
    """Revoke a grant (owner or operator)."""
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        node.revoke(as_dept, grant_id, reason)
    else:
        try:
            service.revoke(node, as_dept, grant_id, reason)
        finally:
            node.close()
    console.print(f"grant {grant_id}: revoked")


@app.command()
def deliver(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    consumer: Annotated[str, typer.Option(help="Consuming department.")],
    out: Annotated[
        Path, typer.Option(help="Where to write the signed package (JSON).")
    ],
    grant: Annotated[str | None, typer.Option(help="Grant id.")] = None,
) -> None:
    """Deliver a resource under a grant; the consumer checks and records the receipt."""
    check_output_path(out)
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        # The API delivers on the consumer's request, so this needs the
        # consumer's token: it works for consumers hosted on this node.
        package = node.deliver(consumer, grant_id=grant, resource_id=resource)
        out.write_text(json.dumps(package, ensure_ascii=False), "utf-8")
        node.receive(package)
    else:
        try:
            package = service.deliver(
                node,
                DatasetStore(node.home.path / "objects"),
                consumer,
                grant_id=grant,
                resource_id=resource,
            ).package
            out.write_text(json.dumps(package, ensure_ascii=False), "utf-8")
            if consumer in node.dept_keys:
                service.receive(node, package)
        finally:
            node.close()
    console.print(
        f"delivered {counted(len(package['rows']), 'row')} of {resource} to {consumer}: "
        f"{out} "
        f"(content hash {package['content_hash']})"
    )


@app.command("list")
def list_requests(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="pending, granted or rejected.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List sharing requests."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        found = [r for _k, r in store.scan("request") if status in (None, r["status"])]
    finally:
        store.close()
    if as_json:
        print_json(found)
        return
    print_table(
        f"{len(found)} requests",
        ["id", "resource", "consumer", "status", "step", "rule", "escalated"],
        [
            [
                r["id"],
                r["resource"],
                r["consumer"],
                r["status"],
                r["step"],
                r["rule"],
                r["escalated"],
            ]
            for r in found
        ],
    )


@app.command()
def overdue(
    ctx: typer.Context,
    escalate: Annotated[
        bool, typer.Option(help="Escalate each to the operator.")
    ] = False,
) -> None:
    """List requests past their deadline, and optionally escalate them."""
    state: CliState = ctx.obj
    now = int(time.time() * 1000)
    if escalate:
        node = state.node_or_api()
        if isinstance(node, ApiClient):
            operator = _operator(state)
            done = node.call(operator, "POST", "/v1/requests/overdue/escalate")
            console.print(f"escalated {done['escalated']} requests")
            return
        try:
            receipts = service.escalate_overdue(node, now)
        finally:
            node.close()
        console.print(f"escalated {sum(r.applied for r in receipts)} requests")
        return
    store = state.read_store()
    try:
        found = service.overdue_requests(store, now)
    finally:
        store.close()
    print_table(
        f"{len(found)} overdue requests",
        ["id", "resource", "consumer", "waiting on", "escalated"],
        [
            [
                r["id"],
                r["resource"],
                r["consumer"],
                r["steps"][r["step"]]["approver"],
                r["escalated"],
            ]
            for r in found
        ],
    )


def _operator(state: CliState) -> str:
    """Return the platform operator's department id from the ledger."""
    store = state.read_store()
    try:
        config = service.get_record(store, "consortium", "config")
    finally:
        store.close()
    return str(config["consortium"]["operator"])
