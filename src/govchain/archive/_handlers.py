"""Ledger transaction types of the digital archive.

- `archive.anchor`: the Merkle root and size of one batch of items. Creates
  `archive_batch/<arb-...>` owned by the signing department.
- `archive.audit`: the result of a fixity audit: counts, the SHA-256 of the
  full report kept with the archive, and the hashes of lost files.
- `archive.dispose`: the disposal of one item past its retention period. The
  payload carries the item's leaf and inclusion proof, and the handler checks
  them against the batch root and the retention date against the block time,
  so the ledger itself refuses an early or unanchored disposal.

Metadata never reaches the ledger: a leaf carries only its hash.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from govchain.archive.anchoring import Leaf
from govchain.errors import PolicyError, ValidationError, VerificationError
from govchain.ledger import merkle
from govchain.ledger.state import TxContext, handler

BATCH_NS = "archive_batch"
AUDIT_NS = "archive_audit"
DISPOSAL_NS = "archive_disposal"
MAX_BATCH = 1_000_000
MAX_LOST_LISTED = 1000
AUDIT_RESULTS = ("intact", "repaired", "damaged", "lost")
AUDIT_COUNTS = ("items", "objects", "copies", "intact", "altered", "missing")
AUDIT_COUNTS_MORE = ("repaired", "lost", "replicas")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTROL_RE = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]")


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


def _hex64(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not _HEX64_RE.match(value):
        raise _bad(f"field {name} must be a 64-character lower-case hex SHA-256")
    return value


def _count(payload: dict[str, Any], name: str, maximum: int) -> int:
    value = payload.get(name)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 0 <= value <= maximum
    ):
        raise _bad(f"field {name} must be an integer from 0 to {maximum}")
    return value


@handler("archive.anchor")
def anchor(ctx: TxContext) -> None:
    payload = ctx.tx.payload
    root = _hex64(payload, "root")
    size = _count(payload, "size", MAX_BATCH)
    if size == 0:
        raise _bad(
            "field size must be at least 1: an empty batch has nothing to anchor"
        )
    batch_id = ctx.new_id("arb")
    ctx.add_subject(f"archive-batch:{batch_id}")
    ctx.state.put(
        BATCH_NS,
        batch_id,
        {
            "id": batch_id,
            "owner": ctx.tx.dept,
            "root": root,
            "size": size,
            "anchored": ctx.block_time,
            "tx": ctx.tx.id,
        },
    )


@handler("archive.audit")
def audit(ctx: TxContext) -> None:
    payload = ctx.tx.payload
    record: dict[str, Any] = {
        "id": ctx.new_id("aud"),
        "department": ctx.tx.dept,
        "time": ctx.block_time,
        "report_hash": _hex64(payload, "report_hash"),
        "tx": ctx.tx.id,
    }
    for name in (*AUDIT_COUNTS, *AUDIT_COUNTS_MORE):
        record[name] = _count(payload, name, 10**12)
    result = payload.get("result")
    if result not in AUDIT_RESULTS:
        raise _bad(f"field result must be one of {', '.join(AUDIT_RESULTS)}")
    record["result"] = result
    lost = payload.get("lost_objects", [])
    if not isinstance(lost, list) or len(lost) > MAX_LOST_LISTED:
        raise _bad(f"field lost_objects must be a list of at most {MAX_LOST_LISTED}")
    for number, value in enumerate(lost):
        if not isinstance(value, str) or not _HEX64_RE.match(value):
            raise _bad(f"lost_objects[{number}] must be a hex SHA-256")
    record["lost_objects"] = lost
    ctx.add_subject(f"archive-audit:{record['id']}")
    ctx.state.put(AUDIT_NS, record["id"], record)


@handler("archive.dispose")
def dispose(ctx: TxContext) -> None:
    payload = ctx.tx.payload
    batch_id = payload.get("batch")
    batch = ctx.state.get(BATCH_NS, batch_id) if isinstance(batch_id, str) else None
    if batch is None:
        raise ValidationError(
            f"archive batch {batch_id!r} is not on the ledger", reason="unknown-batch"
        )
    ctx.add_subject(f"archive-batch:{batch_id}")

    if batch["owner"] != ctx.tx.dept:
        raise PolicyError(
            f"archive batch {batch_id} belongs to {batch['owner']!r}; only it may "
            f"dispose of its items, not {ctx.tx.dept!r}",
            reason="not-owner",
        )
    index = _count(payload, "leaf_index", batch["size"] - 1)
    key = f"{batch_id}:{index}"
    if ctx.state.get(DISPOSAL_NS, key) is not None:
        raise ValidationError(
            f"item {index} of batch {batch_id} was already disposed of",
            reason="duplicate",
        )
    leaf = _included_leaf(payload, batch, index)
    _check_retention(leaf, ctx.block_time)

    approval = payload.get("approval")
    if (
        not isinstance(approval, str)
        or not approval.strip()
        or len(approval) > 100
        or _CONTROL_RE.search(approval)
    ):
        raise _bad(
            "field approval must be the reference of the disposal decision, 1 to "
            "100 characters without control characters"
        )
    ctx.state.put(
        DISPOSAL_NS,
        key,
        {
            "batch": batch_id,
            "leaf_index": index,
            "sha256": leaf.sha256,
            "leaf_hash": leaf.leaf_hash().hex(),
            "approval": approval.strip(),
            "disposed": ctx.block_time,
            "department": ctx.tx.dept,
            "tx": ctx.tx.id,
        },
    )


def _included_leaf(payload: dict[str, Any], batch: dict[str, Any], index: int) -> Leaf:
    try:
        leaf = Leaf.from_dict(payload.get("leaf"))
        proof = payload.get("proof")
        if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
            raise _bad("field proof must be a list of hex node hashes")
        nodes = [bytes.fromhex(p) for p in proof]
        merkle.verify_inclusion(
            leaf.leaf_hash(), index, batch["size"], nodes, bytes.fromhex(batch["root"])
        )
    except (VerificationError, ValueError) as exc:
        raise ValidationError(
            f"leaf and proof do not lead to the root of batch {batch['id']}: {exc}",
            reason="bad-proof",
        ) from exc
    return leaf


def _check_retention(leaf: Leaf, block_time: int) -> None:
    if leaf.retain_until == "permanent":
        raise PolicyError(
            "the item is kept permanently and cannot be disposed of",
            reason="retention",
        )
    today = dt.datetime.fromtimestamp(block_time / 1000, dt.UTC).date().isoformat()
    if today < leaf.retain_until:
        raise PolicyError(
            f"the item's retention period runs until {leaf.retain_until}; it may be "
            f"disposed of from that date, not on {today}",
            reason="retention",
        )
