"""The deterministic state machine: handlers, overlays and the write set.

State is a set of JSON values keyed by namespace and key (`dept/city-health`,
`resource/R-...`). It is a pure function of the ordered transactions because a handler
reads only the transaction, the block height and time and the state so far, and
may raise `ValidationError` to reject the transaction. A rejected transaction
stays in the log with its reason and changes nothing.

Handlers register by transaction type with `@handler("catalog.register")`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from govchain.errors import ValidationError
from govchain.ledger.canonical import canonical_json
from govchain.ledger.transaction import Transaction

logger = logging.getLogger(__name__)

Value = dict[str, Any]


class StateReader(Protocol):
    """Read access to committed state."""

    def get(self, ns: str, key: str) -> Value | None: ...

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """Yield `(key, value)` for keys in `ns` starting with `prefix`, sorted."""
        ...


class MemoryState:
    """State held in memory, one dict per namespace; used to replay a ledger.

    Each entry is kept only as its canonical encoding, so the replayed state
    can be compared byte for byte with the stored one. A value is decoded again
    when read: a block's overlay caches what it reads, so that happens about
    once per key and block, and a million decoded catalog records would take
    about four times the memory of their encodings.
    """

    def __init__(self) -> None:
        self.namespaces: dict[str, dict[str, bytes]] = {}
        self._empty: dict[str, bytes] = {}

    def get(self, ns: str, key: str) -> Value | None:
        encoded = self.namespaces.get(ns, self._empty).get(key)
        return None if encoded is None else _decode(encoded)

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, Value]]:
        entries = self.namespaces.get(ns, self._empty)
        for key in sorted(k for k in entries if k.startswith(prefix)):
            yield key, _decode(entries[key])

    def encoded(self, ns: str, key: str) -> bytes | None:
        """Return the canonical encoding of an entry, or None if there is none."""
        return self.namespaces.get(ns, self._empty).get(key)

    def __len__(self) -> int:
        return sum(len(entries) for entries in self.namespaces.values())

    def encoded_rows(self) -> Iterator[tuple[str, str, bytes]]:
        """Yield `(ns, key, canonical value)` for every entry."""
        for ns, entries in self.namespaces.items():
            for key, encoded in entries.items():
                yield ns, key, encoded

    def apply(self, writes: list[Write]) -> None:
        for write in writes:
            entries = self.namespaces.setdefault(write.ns, {})
            if write.encoded is None:
                entries.pop(write.key, None)
            else:
                entries[write.key] = write.encoded


def _decode(encoded: bytes) -> Value:
    value: Value = json.loads(encoded)
    return value


_DELETED = object()


@dataclass(frozen=True, slots=True)
class Write:
    """One state change; `value` and its canonical `encoded` form are None for a deletion."""

    ns: str
    key: str
    value: Value | None
    encoded: bytes | None

    def to_dict(self) -> dict[str, Any]:
        return {"ns": self.ns, "key": self.key, "value": self.value}


class Overlay:
    """Uncommitted writes layered over a reader, in the order they were made."""

    def __init__(self, base: StateReader, *, cache_reads: bool = False) -> None:
        """`cache_reads` keeps what `base` returned; use it only while `base`
        cannot change, as for the overlay of one block over committed state."""
        self.base = base
        self._changes: dict[tuple[str, str], Any] = {}
        self._reads: dict[tuple[str, str], Value | None] | None = (
            {} if cache_reads else None
        )

    def get(self, ns: str, key: str) -> Value | None:
        change = self._changes.get((ns, key))
        if change is _DELETED:
            return None
        if change is not None:
            return dict(change[0])
        if self._reads is None:
            return self.base.get(ns, key)
        target = (ns, key)
        if target not in self._reads:
            self._reads[target] = self.base.get(ns, key)
        value = self._reads[target]
        return None if value is None else dict(value)

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, Value]]:
        merged: dict[str, Value] = dict(self.base.scan(ns, prefix))
        for (n, key), change in self._changes.items():
            if n != ns or not key.startswith(prefix):
                continue
            if change is _DELETED:
                merged.pop(key, None)
            else:
                merged[key] = change[0]
        for key in sorted(merged):
            yield key, merged[key]

    def put(self, ns: str, key: str, value: Value) -> None:
        # Encoding now rejects floats and other values replay could not rebuild,
        # and the bytes are kept for the state digest and the state table.
        encoded = canonical_json(value)
        self._changes.pop((ns, key), None)
        self._changes[(ns, key)] = (dict(value), encoded)

    def put_encoded(self, ns: str, key: str, value: Value, encoded: bytes) -> None:
        """Store `value` whose canonical encoding the caller has built itself."""
        self._changes.pop((ns, key), None)
        self._changes[(ns, key)] = (value, encoded)

    def delete(self, ns: str, key: str) -> None:
        self._changes.pop((ns, key), None)
        self._changes[(ns, key)] = _DELETED

    def writes(self) -> list[Write]:
        """Return the changes in the order they were last made."""
        return [
            Write(ns, key, None, None) if v is _DELETED else Write(ns, key, v[0], v[1])
            for (ns, key), v in self._changes.items()
        ]

    def merge_into(self, parent: Overlay) -> None:
        """Move these changes into `parent`; `put` already checked each value."""
        for target, change in self._changes.items():
            parent._changes.pop(target, None)
            parent._changes[target] = change


@dataclass
class TxContext:
    """The transaction, its block and the state, as a handler reads them."""

    tx: Transaction
    height: int
    block_time: int
    log_index: int
    state: Overlay
    subjects: list[str] = field(default_factory=list)

    def new_id(self, prefix: str) -> str:
        """Return the id of an object this transaction creates, such as `req-00001464`."""
        return object_id(prefix, self.log_index)

    def add_subject(self, subject: str) -> None:
        """Index this transaction under `subject` (a resource, grant or request id)."""
        if subject not in self.subjects:
            self.subjects.append(subject)


def object_id(prefix: str, log_index: int) -> str:
    """Return the id of an object created by the transaction at `log_index`.

    Ids follow the log, so new state keys sort after the existing ones and a
    block's inserts land at the end of each SQLite index instead of on random
    pages. Zero padding keeps that order up to 10**8 transactions.
    """
    return f"{prefix}-{log_index:08d}"


Handler = Callable[[TxContext], None]
_HANDLERS: dict[str, Handler] = {}


def handler(tx_type: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `tx_type`."""

    def register(fn: Handler) -> Handler:
        if tx_type in _HANDLERS:
            raise RuntimeError(f"transaction type {tx_type} has two handlers")
        _HANDLERS[tx_type] = fn
        return fn

    return register


def get_handler(tx_type: str) -> Handler:
    try:
        return _HANDLERS[tx_type]
    except KeyError:
        raise ValidationError(
            f"transaction type {tx_type!r} is unknown", reason="unknown-type"
        ) from None


def registered_types() -> list[str]:
    return sorted(_HANDLERS)
