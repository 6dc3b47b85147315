"""State handlers for membership: genesis, admitting, suspending, key rotation.

Every membership change after genesis is a transaction signed by the platform
operator, so the ledger itself shows who joined, who was suspended and which
key a department signed with at any height.
"""

from __future__ import annotations

from typing import Any

from govchain.consortium._membership import (
    CONFIG_KEY,
    CONFIG_NS,
    NODE_NS,
    RETIRED_KEY_NS,
    check_admission,
    check_reinstatement,
    check_rotation,
    check_suspension,
    check_target,
    stored_config,
)
from govchain.crypto.keys import KeyFormatError, PublicKey
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.state import TxContext, handler

__all__ = [
    "CONFIG_KEY",
    "CONFIG_NS",
    "NODE_NS",
    "RETIRED_KEY_NS",
    "consortium_config",
    "operator_of",
    "require_operator",
]


def consortium_config(ctx: TxContext) -> dict[str, Any]:
    return stored_config(ctx.state)


def operator_of(config: dict[str, Any]) -> str:
    return str(config["consortium"]["operator"])


def require_operator(ctx: TxContext) -> dict[str, Any]:
    config = consortium_config(ctx)
    operator = operator_of(config)
    if ctx.tx.dept != operator:
        raise PolicyError(
            f"only the platform operator {operator!r} may submit "
            f"{ctx.tx.type}; {ctx.tx.dept!r} did",
            reason="not-operator",
        )
    return config


def _key_record(payload: dict[str, Any], field: str) -> dict[str, str]:
    try:
        key = PublicKey.from_b64(str(payload[field]))
    except KeyError as exc:
        raise ValidationError(
            f"payload field {field} is missing", reason="bad-payload"
        ) from exc
    except KeyFormatError as exc:
        raise ValidationError(
            f"payload field {field} is not an Ed25519 public key: {exc}",
            reason="bad-payload",
        ) from exc
    return {"kid": key.kid, "public_key": key.to_b64()}


@handler("consortium.genesis")
def genesis(ctx: TxContext) -> None:
    if ctx.state.get(CONFIG_NS, CONFIG_KEY) is not None:
        raise ValidationError("the ledger already has a genesis", reason="bad-genesis")
    payload = ctx.tx.payload
    config = payload["consortium"]
    ctx.state.put(CONFIG_NS, CONFIG_KEY, config)
    keys = payload.get("keys", {})
    for dept in config["departments"]:
        record = {
            "name": dept["name"],
            "region": dept["region"],
            "level": dept["level"],
            "line": dept["line"],
            "status": "pending",
            "kid": "",
            "public_key": "",
        }
        if dept["id"] in keys:
            record.update(_key_record(keys[dept["id"]], "public_key"))
            record["status"] = "active"
        ctx.state.put(DEPT_NS, dept["id"], record)
        ctx.add_subject(f"dept:{dept['id']}")
    for node_id, key in payload.get("nodes", {}).items():
        ctx.state.put(NODE_NS, node_id, _key_record(key, "public_key"))


@handler("consortium.admit")
def admit(ctx: TxContext) -> None:
    require_operator(ctx)
    # NOTE: these checks are stricter than those of earlier releases, so a ledger
    # that applied an admission they reject no longer replays to the same state.
    dept_id, record = check_admission(ctx.state, ctx.tx.payload)
    existing = ctx.state.get(DEPT_NS, dept_id)
    if existing is not None:
        _retire_key(ctx, dept_id, existing, record["kid"])
    ctx.state.put(DEPT_NS, dept_id, record)
    ctx.add_subject(f"dept:{dept_id}")


@handler("consortium.suspend")
def suspend(ctx: TxContext) -> None:
    config = require_operator(ctx)
    _add_target_subject(ctx)
    dept_id, record = check_suspension(ctx.state, ctx.tx.payload)
    if dept_id == operator_of(config):
        raise PolicyError(
            "the platform operator cannot suspend itself", reason="not-allowed"
        )
    record["status"] = "suspended"
    record["suspended_at"] = ctx.height
    ctx.state.put(DEPT_NS, dept_id, record)


@handler("consortium.reinstate")
def reinstate(ctx: TxContext) -> None:
    require_operator(ctx)
    _add_target_subject(ctx)
    dept_id, record = check_reinstatement(ctx.state, ctx.tx.payload)
    record["status"] = "active"
    record.pop("suspended_at", None)
    ctx.state.put(DEPT_NS, dept_id, record)


@handler("consortium.rotate_key")
def rotate_key(ctx: TxContext) -> None:
    require_operator(ctx)
    _add_target_subject(ctx)
    dept_id, record, key = check_rotation(ctx.state, ctx.tx.payload)
    _retire_key(ctx, dept_id, record, key.kid)
    record.update({"kid": key.kid, "public_key": key.to_b64()})
    if record["status"] == "pending":
        record["status"] = "active"
    ctx.state.put(DEPT_NS, dept_id, record)


def _add_target_subject(ctx: TxContext) -> None:
    """Name the target member as a subject, so its audit trail shows rejections too."""
    dept_id, _record = check_target(ctx.state, ctx.tx.payload, tx_type=ctx.tx.type)
    ctx.add_subject(f"dept:{dept_id}")


def _retire_key(
    ctx: TxContext, dept_id: str, record: dict[str, Any], new_kid: str
) -> None:
    """Record the department's current key as retired unless it stays in use."""
    kid = record.get("kid")
    if not isinstance(kid, str) or not kid or kid == new_kid:
        return
    retired = {
        "department": dept_id,
        "public_key": record.get("public_key", ""),
        "retired_at": ctx.height,
    }
    ctx.state.put(RETIRED_KEY_NS, kid, retired)
