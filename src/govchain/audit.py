"""Audit trails: every transaction, applied or refused, by resource, department or time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from govchain.errors import ValidationError
from govchain.ledger.canonical import parse_canonical_json
from govchain.ledger.store import LedgerStore, StoredTx

#: Transaction ids passed to SQLite in one `IN (...)` list.
ID_CHUNK = 500


@dataclass(frozen=True)
class TrailQuery:
    """Filters and order of an audit trail.

    Times are unix milliseconds, `until` exclusive. `tx_ids` keeps only those
    transactions, such as the ones a console user submitted, which the ledger
    does not record. `newest_first` returns the newest `limit` records, newest
    first; otherwise the oldest `limit` records come oldest first.
    """

    resource: str | None = None
    department: str | None = None
    since: int | None = None
    until: int | None = None
    limit: int = 1000
    newest_first: bool = False
    tx_ids: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValidationError(
                f"limit {self.limit} must be 1 or more", reason="bad-request"
            )
        if (
            self.since is not None
            and self.until is not None
            and self.since >= self.until
        ):
            raise ValidationError(
                f"since ({format_time(self.since)}) is not before until "
                f"({format_time(self.until)}); swap them or widen the range",
                reason="bad-request",
            )


def trail(store: LedgerStore, query: TrailQuery) -> list[dict[str, Any]]:
    """Return the matching transactions as plain records, in the query's order.

    A department's trail contains what it submitted and what names it (a
    delivery to it, its suspension).
    """
    if query.newest_first or query.tx_ids is not None:
        rows = _select(store, query)
    else:
        rows = store.query_txs(
            subject=f"resource:{query.resource}" if query.resource else None,
            dept=query.department,
            since=query.since,
            until=query.until,
            limit=query.limit,
        )
    subjects = store.subjects_of(row.seq for row in rows)
    return [_record(row, subjects.get(row.seq, [])) for row in rows]


def _select(store: LedgerStore, query: TrailQuery) -> list[StoredTx]:
    """Select a trail's rows in SQL, for the options `query_txs` does not offer.

    With `tx_ids`, each chunk of ids is looked up through the ledger's id
    index (`LedgerStore.seqs_of_ids`), so the cost follows the number of ids,
    not the ledger's size.
    """
    table, clauses, params = _trail_filter(query)
    order = "DESC" if query.newest_first else "ASC"
    if query.tx_ids is None:
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT txs.seq FROM {table} {where} ORDER BY txs.seq {order} LIMIT ?"
        seqs = [
            int(row[0]) for row in store.reader.execute(sql, (*params, query.limit))
        ]
    else:
        ids = sorted(query.tx_ids)
        found: list[int] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            chunk_seqs = sorted(store.seqs_of_ids(chunk).values())
            if not chunk_seqs:
                continue
            marks = ", ".join("?" for _ in chunk_seqs)
            where = " AND ".join([*clauses, f"txs.seq IN ({marks})"])
            sql = f"SELECT txs.seq FROM {table} WHERE {where}"
            found.extend(
                int(row[0]) for row in store.reader.execute(sql, (*params, *chunk_seqs))
            )
        seqs = sorted(found, reverse=query.newest_first)[: query.limit]
    rows = []
    for seq in seqs:
        row = store.tx_by_seq(seq)
        if row is not None:
            rows.append(row)
    return rows


def _trail_filter(query: TrailQuery) -> tuple[str, list[str], list[Any]]:
    """Return the table, WHERE conditions and parameters that select a trail.

    They are the filters of `LedgerStore.query_txs`.
    """
    table = "txs"
    clauses: list[str] = []
    params: list[Any] = []
    if query.resource is not None:
        table = "txs JOIN tx_subjects USING (seq)"
        clauses.append("tx_subjects.subject = ?")
        params.append(f"resource:{query.resource}")
    if query.department is not None:
        clauses.append(
            "(txs.dept = ? OR txs.seq IN (SELECT seq FROM tx_subjects WHERE subject = ?))"
        )
        params.extend([query.department, f"dept:{query.department}"])
    if query.since is not None:
        clauses.append("txs.time >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("txs.time < ?")
        params.append(query.until)
    return table, clauses, params


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
