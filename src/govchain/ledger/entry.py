"""Log entries: what each leaf of the Merkle log commits to.

A leaf is not the bare transaction but the transaction together with its
outcome, the block that holds it and that block's time. An inclusion proof for
a leaf therefore proves, offline, not only that a department signed a statement
but also whether the ledger applied or rejected it, and when.
"""

from __future__ import annotations

import base64
from json.encoder import encode_basestring
from typing import Any

from govchain.errors import ValidationError
from govchain.ledger.canonical import canonical_json, parse_canonical_json

VERSION = 1


def entry_dict(
    tx_data: bytes, *, height: int, time: int, status: str, reason: str
) -> dict[str, Any]:
    """Build the log entry of a transaction.

    A transaction that decodes as canonical JSON is embedded as its object, whose
    canonical form is exactly `tx_data`; anything else (a rejected, malformed
    submission) is embedded as base64 under `tx_b64`.
    """
    body: dict[str, Any] = {
        "v": VERSION,
        "height": height,
        "time": time,
        "status": status,
        "reason": reason,
    }
    try:
        body["tx"] = parse_canonical_json(tx_data)
    except ValidationError:
        body["tx_b64"] = base64.b64encode(tx_data).decode("ascii")
    return body


def entry_bytes(
    tx_data: bytes,
    *,
    height: int,
    time: int,
    status: str,
    reason: str,
    tx_is_canonical: bool = False,
) -> bytes:
    """Return the canonical bytes of a log entry.

    When the caller already knows `tx_data` is canonical JSON (it decoded as a
    transaction), the entry is assembled around those bytes without parsing
    them again: the keys height, reason, status, time, tx and v are already in
    canonical order.
    """
    if tx_is_canonical:
        # The string fields are short codes, which the json module's string
        # encoder writes in canonical form, and the integers are block heights
        # and times.
        return b'{"height":%d,"reason":%s,"status":%s,"time":%d,"tx":%s,"v":%d}' % (
            height,
            encode_basestring(reason).encode("utf-8"),
            encode_basestring(status).encode("utf-8"),
            time,
            tx_data,
            VERSION,
        )
    return canonical_json(
        entry_dict(tx_data, height=height, time=time, status=status, reason=reason)
    )


def entry_tx_bytes(entry: dict[str, Any]) -> bytes:
    """Return the transaction bytes embedded in a log entry."""
    if "tx" in entry:
        return canonical_json(entry["tx"])
    return base64.b64decode(entry["tx_b64"], validate=True)
