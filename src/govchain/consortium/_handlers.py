"""State handlers for membership: genesis, admitting, suspending, key rotation.

Every membership change after genesis is a transaction signed by the platform
operator, so the ledger itself shows who joined, who was suspended and which
key a department signed with at any height.
"""

from __future__ import annotations

import re
from typing import Any

from govchain.crypto.keys import KeyFormatError, PublicKey
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.state import TxContext, handler

CONFIG_NS = "consortium"
CONFIG_KEY = "config"
NODE_NS = "node"

_DEPT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


def consortium_config(ctx: TxContext) -> dict[str, Any]:
    config = ctx.state.get(CONFIG_NS, CONFIG_KEY)
    if config is None:
        raise ValidationError(
            "the ledger has no genesis block yet", reason="no-genesis"
        )
    return config


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


def _target(ctx: TxContext) -> tuple[str, dict[str, Any]]:
    dept_id = ctx.tx.payload.get("department")
    if not isinstance(dept_id, str):
        raise ValidationError(
            "payload field department is missing", reason="bad-payload"
        )
    record = ctx.state.get(DEPT_NS, dept_id)
    if record is None:
        raise ValidationError(
            f"department {dept_id!r} is not a member", reason="unknown-department"
        )
    ctx.add_subject(f"dept:{dept_id}")
    return dept_id, record


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
    config = require_operator(ctx)
    payload = ctx.tx.payload
    dept = payload.get("department")
    if not isinstance(dept, dict):
        raise ValidationError(
            "payload field department must be an object", reason="bad-payload"
        )
    dept_id = dept.get("id")
    if not isinstance(dept_id, str) or not _DEPT_ID_RE.match(dept_id):
        raise ValidationError(
            "department id must be 2 to 64 characters of a-z, 0-9 and '-'",
            reason="bad-payload",
        )
    existing = ctx.state.get(DEPT_NS, dept_id)
    if existing is not None and existing["status"] != "pending":
        raise ValidationError(
            f"department {dept_id!r} is already a member", reason="duplicate"
        )
    regions = {r["code"] for r in config["regions"]}
    if dept.get("region") not in regions:
        raise ValidationError(
            f"region {dept.get('region')!r} of department {dept_id!r} is not declared "
            "in the consortium",
            reason="bad-payload",
        )
    if dept.get("level") not in ("province", "city", "county"):
        raise ValidationError(
            f"level {dept.get('level')!r} is not one of province, city, county",
            reason="bad-payload",
        )
    record = {
        "name": str(dept.get("name", "")),
        "region": dept["region"],
        "level": dept["level"],
        "line": str(dept.get("line", "")),
        "status": "active",
    }
    record.update(_key_record(payload, "public_key"))
    ctx.state.put(DEPT_NS, dept_id, record)
    ctx.add_subject(f"dept:{dept_id}")


@handler("consortium.suspend")
def suspend(ctx: TxContext) -> None:
    config = require_operator(ctx)
    dept_id, record = _target(ctx)
    if dept_id == operator_of(config):
        raise PolicyError(
            "the platform operator cannot suspend itself", reason="not-allowed"
        )
    reason = ctx.tx.payload.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("a suspension needs a reason", reason="reason-required")
    record["status"] = "suspended"
    record["suspended_at"] = ctx.height
    ctx.state.put(DEPT_NS, dept_id, record)


@handler("consortium.reinstate")
def reinstate(ctx: TxContext) -> None:
    require_operator(ctx)
    dept_id, record = _target(ctx)
    if record["status"] != "suspended":
        raise ValidationError(
            f"department {dept_id!r} is not suspended", reason="not-suspended"
        )
    record["status"] = "active"
    record.pop("suspended_at", None)
    ctx.state.put(DEPT_NS, dept_id, record)


@handler("consortium.rotate_key")
def rotate_key(ctx: TxContext) -> None:
    require_operator(ctx)
    dept_id, record = _target(ctx)
    new_key = _key_record(ctx.tx.payload, "public_key")
    if new_key["kid"] == record.get("kid"):
        raise ValidationError("the new key is the current key", reason="same-key")
    record.update(new_key)
    if record["status"] == "pending":
        record["status"] = "active"
    ctx.state.put(DEPT_NS, dept_id, record)
