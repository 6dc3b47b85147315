"""Ledger pages: blocks, transactions, checkpoints and verification status.

Verifying the whole ledger replays every block, so it runs as a background
job (see `govchain.console.jobs`) that the page polls for progress.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from govchain.audit import format_time
from govchain.console._auth import Viewer, require
from govchain.console._sessions import Session
from govchain.console._web import (
    NotFound,
    Page,
    console_router,
    console_state,
    redirect,
    render,
    translator,
)
from govchain.console.jobs import Progress
from govchain.ledger.store import LedgerStore
from govchain.ledger.verify import verify_ledger

logger = logging.getLogger(__name__)

router = console_router("/ledger")
page = Page(
    area="ledger",
    router=router,
    label="ledger.nav",
    path="/console/ledger",
    roles=frozenset({"operator", "steward", "officer", "auditor"}),
    order=50,
)

RECENT_BLOCKS = 20
VERIFY_ROLES = ("operator", "auditor")


@router.get("", response_class=HTMLResponse)
def ledger_page(request: Request, session: Viewer) -> HTMLResponse:
    state = console_state(request)
    data = state.api.read(_summary)
    job = state.jobs.latest("verify")
    return render(
        request,
        "ledger/index.html",
        title_key="ledger.title",
        job=job.to_dict() if job else None,
        report=job.result if job and job.state == "done" else None,
        job_running=job is not None and job.state == "running",
        job_owned=job is not None and job.owner == session.user.id,
        can_verify=session.user.role in VERIFY_ROLES,
        node_id=state.api.node.home.node_id,
        origin=state.api.node.origin,
        **data,
    )


def _summary(store: LedgerStore) -> dict[str, Any]:
    height = store.height()
    blocks = []
    for h in range(height, max(-1, height - RECENT_BLOCKS), -1):
        header = store.header(h)
        if header is not None:
            blocks.append(
                {
                    "height": header.height,
                    "time": format_time(header.time),
                    "tx_count": header.tx_count,
                    "hash": header.hash,
                    "log_size": header.log_size,
                    "committer": header.committer,
                }
            )
    latest = store.latest_checkpoint()
    return {
        "height": height,
        "log_size": store.log_size(),
        "blocks": blocks,
        "checkpoint_size": latest[0] if latest else None,
        "checkpoint": latest[1].decode("utf-8") if latest else None,
    }


@router.get("/blocks/{height}", response_class=HTMLResponse)
def block_page(height: int, request: Request, session: Viewer) -> HTMLResponse:
    def read(store: LedgerStore) -> dict[str, Any] | None:
        header = store.header(height)
        if header is None:
            return None
        txs = [
            {
                "tx_id": tx.id,
                "index": tx.seq,
                "type": tx.type,
                "department": tx.dept,
                "status": tx.status,
                "reason": tx.reason,
            }
            for tx in store.txs_in_block(height)
        ]
        note = store.checkpoint(header.log_size)
        return {
            "header": header,
            "time": format_time(header.time),
            "txs": txs,
            "checkpoint": note.decode("utf-8") if note is not None else None,
        }

    data = console_state(request).api.read(read)
    if data is None:
        raise NotFound(translator(request)("ledger.no_block", height=height))
    return render(request, "ledger/block.html", title_key="ledger.block_title", **data)


@router.post("/verify", response_model=None)
def start_verification(
    request: Request,
    session: Annotated[
        Session, require(*VERIFY_ROLES, action="ledger.verify", post=True)
    ],
) -> Response:
    """Start a whole-ledger verification unless one is running already."""
    state = console_state(request)
    running = state.jobs.latest("verify")
    if running is None or running.state != "running":
        state.jobs.start("verify", session.user.id, lambda p: _verify(state.api, p))
    return redirect("/ledger")


def _verify(api: Any, progress: Progress) -> dict[str, Any]:
    store: LedgerStore = api.open_read_store()
    try:
        store.db.execute("BEGIN")
        progress.stage("replaying", store.height() + 1)
        report = verify_ledger(
            store, progress=lambda done, total: progress.advance(done, total)
        )
    finally:
        store.close()
    result: dict[str, Any] = report.to_dict()
    return result
