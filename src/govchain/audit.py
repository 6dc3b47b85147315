"""Audit trails: every transaction, applied or refused, by resource, department or time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from govchain.errors import ValidationError
from govchain.ledger.canonical import parse_canonical_json
from govchain.ledger.store import LedgerStore, StoredTx


@dataclass(frozen=True)
class TrailQuery:
    """Filters of an audit trail; times are unix milliseconds, `until` exclusive."""

    resource: str | None = None
    department: str | None = None
    since: int | None = None
    until: int | None = None
    limit: int = 1000


def trail(store: LedgerStore, query: TrailQuery) -> list[dict[str, Any]]:
    """Return the matching transactions, oldest first, as plain records.

    A department's trail holds what it submitted and what names it (a delivery
    to it, its suspension).
    """
    rows = store.query_txs(
        subject=f"resource:{query.resource}" if query.resource else None,
        dept=query.department,
        since=query.since,
        until=query.until,
        limit=query.limit,
    )
    subjects = store.subjects_of(row.seq for row in rows)
    return [_record(row, subjects.get(row.seq, [])) for row in rows]


def _record(row: StoredTx, subjects: list[str]) -> dict[str, Any]:
    target = ""
    try:
        payload = parse_canonical_json(row.data).get("payload", {})
    except ValidationError:
        payload = {}
    for name in ("resource", "request", "grant", "delivery", "department", "id"):
        value = payload.get(name)
        if isinstance(value, str):
            target = value
            break
    if not target:
        # A registration names no resource in its payload: the id it created is
        # among the transaction's subjects.
        target = next(
            (s.split(":", 1)[1] for s in subjects if not s.startswith("dept:")), ""
        )
    return {
        "index": row.seq,
        "tx_id": row.id,
        "height": row.height,
        "time": format_time(row.time),
        "type": row.type,
        "department": row.dept,
        "target": target,
        "status": row.status,
        "reason": row.reason,
        "subjects": subjects,
    }


def format_time(ms: int) -> str:
    """Format unix milliseconds as ISO 8601 in UTC."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="seconds")


def parse_time(text: str) -> int:
    """Parse an ISO 8601 date or date-time (UTC when no offset) into unix milliseconds."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            f"time {text!r} is not ISO 8601; write 2026-03-02 or 2026-03-02T09:00+08:00"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)
