"""Checks of membership transactions: admitting, suspending, reinstating, rotating.

The state handlers run these checks, and so do the CLI and the HTTP API before
they sign, so that a user sees the problem at once and nothing reaches the
ledger. Department fields are checked by `read_department`, the code that reads
the consortium file, so an admitted department meets the same rules as one
declared at genesis. Each check raises `ValidationError` whose message names
the payload field, the rule and what to do, and never quotes personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import nacl.bindings

from govchain.consortium._reading import Report
from govchain.consortium.config import DEPARTMENT_FIELDS, read_department
from govchain.crypto.keys import KeyFormatError, PublicKey
from govchain.errors import ValidationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.state import StateReader

CONFIG_NS = "consortium"
CONFIG_KEY = "config"
NODE_NS = "node"
#: Keys that departments signed with before a rotation, by key id. No
#: department may be given one of them again.
RETIRED_KEY_NS = "retired-key"

_ADMIT_FIELDS = ("department", "public_key")
_ROTATE_FIELDS = ("department", "public_key")
_SUSPEND_FIELDS = ("department", "reason")
_REINSTATE_FIELDS = ("department",)


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


def stored_config(state: StateReader) -> dict[str, Any]:
    """Return the consortium settings recorded by the genesis transaction."""
    config = state.get(CONFIG_NS, CONFIG_KEY)
    if config is None:
        raise ValidationError(
            "the ledger has no genesis block yet", reason="no-genesis"
        )
    return config


def _check_payload_fields(
    tx_type: str, payload: Mapping[str, Any], known: tuple[str, ...]
) -> None:
    for key in payload:
        if key not in known:
            raise _bad(
                f"{tx_type}: payload field {key!r} is unknown; check the spelling "
                f"(known: {', '.join(known)})"
            )


def _region_codes(config: Mapping[str, Any]) -> set[str]:
    return {
        region["code"]
        for region in config.get("regions", [])
        if isinstance(region, dict) and isinstance(region.get("code"), str)
    }


def _record_is_valid(dept_id: str, record: Mapping[str, Any], codes: set[str]) -> bool:
    entry = {key: record.get(key) for key in DEPARTMENT_FIELDS if key != "id"}
    report = Report("ledger state")
    return read_department(report, "", {"id": dept_id, **entry}, codes) is not None


def check_admission(
    state: StateReader, payload: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Check a `consortium.admit` payload and return the id and the new record.

    Raises `ValidationError` with one of these reasons:

    - `personal-data`: a department field contains an ID or mobile number;
    - `bad-payload`: a field breaks a rule of the consortium file, or the key
      is not an Ed25519 public key;
    - `duplicate`: the department is already a member;
    - `duplicate-key`: the key is or was another department's or node's.

    A member whose record breaks a rule, because it was admitted before these
    checks, may be admitted again to replace the record.
    """
    _check_payload_fields("consortium.admit", payload, _ADMIT_FIELDS)
    dept = payload.get("department")
    if not isinstance(dept, dict):
        raise _bad(
            "consortium.admit: payload field department is missing or not an "
            "object; give the department's id, name, region, level and line"
        )
    check_free_text({f"department.{key}": value for key, value in dept.items()})
    codes = _region_codes(stored_config(state))
    report = Report("consortium.admit")
    department = read_department(
        report,
        "department",
        dept,
        codes,
        region_hint=f"use a region declared at genesis: {', '.join(sorted(codes))}",
    )
    if department is None:
        raise _bad("\n".join(report.problems))
    existing = state.get(DEPT_NS, department.id)
    replaced = False
    if existing is not None and existing.get("status") != "pending":
        if _record_is_valid(department.id, existing, codes):
            raise ValidationError(
                f"consortium.admit: department {department.id!r} is already a "
                "member; choose another id, or rotate its key with "
                "consortium.rotate_key",
                reason="duplicate",
            )
        replaced = True
    key = check_new_key(
        state,
        payload,
        tx_type="consortium.admit",
        department=department.id if replaced else None,
    )
    record: dict[str, Any] = {
        "name": department.name,
        "region": department.region,
        "level": department.level,
        "line": department.line,
        "status": "active",
        "kid": key.kid,
        "public_key": key.to_b64(),
    }
    if existing is not None and existing.get("status") == "suspended":
        # Replacing an invalid record does not lift a suspension.
        record["status"] = "suspended"
        if "suspended_at" in existing:
            record["suspended_at"] = existing["suspended_at"]
    return department.id, record


def check_new_key(
    state: StateReader,
    payload: Mapping[str, Any],
    *,
    tx_type: str,
    department: str | None = None,
) -> PublicKey:
    """Check the payload's `public_key` and return it.

    The key must be a base64 Ed25519 public key (32 bytes) that no department or
    node has or had, except that `department` may keep its current key.
    Raises `ValidationError` with reason `bad-payload` or `duplicate-key`.
    """
    key = _read_key(payload, tx_type=tx_type)
    _check_key_unused(state, key, tx_type=tx_type, department=department)
    return key


def _read_key(payload: Mapping[str, Any], *, tx_type: str) -> PublicKey:
    text = payload.get("public_key")
    if not isinstance(text, str):
        raise _bad(
            f"{tx_type}: payload field public_key is missing or not a string; "
            "give the department's Ed25519 public key in base64"
        )
    try:
        key = PublicKey.from_b64(text)
    except KeyFormatError as exc:
        raise _bad(
            f"{tx_type}: payload field public_key is invalid: {exc}; give a "
            "32-byte Ed25519 public key in base64"
        ) from exc
    # A point of small order, or one off the curve, is a valid encoding under
    # which libsodium rejects every signature: the department could never sign.
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key.raw):
        raise _bad(
            f"{tx_type}: payload field public_key {key.kid} is not a usable Ed25519 "
            "public key (off the curve or of small order); generate a new key pair"
        )
    return key


def _check_key_unused(
    state: StateReader, key: PublicKey, *, tx_type: str, department: str | None
) -> None:
    fix = "every department and node needs its own key, so generate a new key pair"
    for ns, kind in ((DEPT_NS, "department"), (NODE_NS, "node")):
        for name, record in state.scan(ns):
            if record.get("kid") != key.kid:
                continue
            if ns == DEPT_NS and name == department:
                continue
            raise ValidationError(
                f"{tx_type}: payload field public_key {key.kid} is the current key "
                f"of {kind} {name!r}; {fix}",
                reason="duplicate-key",
            )
    retired = state.get(RETIRED_KEY_NS, key.kid)
    if retired is not None:
        raise ValidationError(
            f"{tx_type}: payload field public_key {key.kid} was the key of "
            f"department {retired.get('department')!r} until block "
            f"{retired.get('retired_at')}; a retired key is never used again, "
            "so generate a new key pair",
            reason="duplicate-key",
        )


def check_target(
    state: StateReader, payload: Mapping[str, Any], *, tx_type: str
) -> tuple[str, dict[str, Any]]:
    """Return the id and record of the member the payload's `department` names."""
    dept_id = payload.get("department")
    if not isinstance(dept_id, str) or not dept_id:
        raise _bad(
            f"{tx_type}: payload field department is missing or not a string; "
            "give the department id"
        )
    check_free_text({"department": dept_id})
    record = state.get(DEPT_NS, dept_id)
    if record is None:
        raise ValidationError(
            f"{tx_type}: department {dept_id!r} is not a member; check the id in "
            "the member list",
            reason="unknown-department",
        )
    return dept_id, record


def check_suspension(
    state: StateReader, payload: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Check a `consortium.suspend` payload and return the target's id and record.

    The reason is recorded on the ledger, so it must be free of personal data.
    """
    _check_payload_fields("consortium.suspend", payload, _SUSPEND_FIELDS)
    reason = payload.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(
            "consortium.suspend: a suspension needs a reason; say why in a few words",
            reason="reason-required",
        )
    check_free_text({"reason": reason})
    dept_id, record = check_target(state, payload, tx_type="consortium.suspend")
    if record.get("status") == "suspended":
        # The same rule as reinstating an active department: the trail then
        # shows one suspension per suspension period.
        raise ValidationError(
            f"consortium.suspend: department {dept_id!r} is already suspended",
            reason="already-suspended",
        )
    return dept_id, record


def check_reinstatement(
    state: StateReader, payload: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Check a `consortium.reinstate` payload and return the target's id and record."""
    _check_payload_fields("consortium.reinstate", payload, _REINSTATE_FIELDS)
    dept_id, record = check_target(state, payload, tx_type="consortium.reinstate")
    if record.get("status") != "suspended":
        raise ValidationError(
            f"consortium.reinstate: department {dept_id!r} is not suspended",
            reason="not-suspended",
        )
    return dept_id, record


def check_rotation(
    state: StateReader, payload: Mapping[str, Any]
) -> tuple[str, dict[str, Any], PublicKey]:
    """Check a `consortium.rotate_key` payload; return the target and its new key."""
    _check_payload_fields("consortium.rotate_key", payload, _ROTATE_FIELDS)
    tx_type = "consortium.rotate_key"
    dept_id, record = check_target(state, payload, tx_type=tx_type)
    key = _read_key(payload, tx_type=tx_type)
    if key.kid == record.get("kid"):
        raise ValidationError(
            f"{tx_type}: the new key {key.kid} is the current key of department "
            f"{dept_id!r}; generate a new key pair",
            reason="same-key",
        )
    _check_key_unused(state, key, tx_type=tx_type, department=None)
    return dept_id, record, key


def check_membership_change(
    state: StateReader, tx_type: str, payload: Mapping[str, Any]
) -> None:
    """Run the check of a `consortium.*` transaction as its handler would.

    The CLI and the API call this before signing. The operator check is left to
    the handler, so that a refusal of another department stays on the ledger.
    """
    if tx_type == "consortium.admit":
        check_admission(state, payload)
    elif tx_type == "consortium.suspend":
        check_suspension(state, payload)
    elif tx_type == "consortium.reinstate":
        check_reinstatement(state, payload)
    elif tx_type == "consortium.rotate_key":
        check_rotation(state, payload)
    else:
        raise ValueError(f"{tx_type!r} is not a membership transaction")
