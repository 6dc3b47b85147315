"""Certificate types as templates: the claims each type requires and its validity.

A template is a JSON object kept on the ledger:

    {"id": "food-health", "title": "食品从业人员健康证明", "version": 1,
     "validity_days": 365, "holder_id": "cn-resident-id",
     "claims": [{"name": "occupation", "type": "string", "label": "从业类别",
                 "required": true}, ...]}

`holder_id` names the identifier the holder is filed under: a resident ID
number for people, a unified social credit code for businesses. Every
certificate also carries two claims that no template declares: `name` (the
holder's full name, printed on the card) and `id_masked` (the holder's
identifier with all but the last four characters masked), so an inspector can
compare the certificate with an identity card or a licence.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from govchain.certs.errors import CertificateError
from govchain.errors import ValidationError

CLAIM_TYPES = ("string", "date", "integer", "boolean")
#: Identifier formats a holder may be filed under (`govchain.identifiers.FORMATS`).
HOLDER_ID_FORMATS = ("cn-resident-id", "cn-uscc")
HOLDER_CLAIMS = ("name", "id_masked")
_ID_RE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_CLAIMS = 32
MAX_VALIDITY_DAYS = 3660
MAX_TEXT = 200


def check_template(template: Any) -> dict[str, Any]:
    """Return the normalized template, or raise `ValidationError` naming the field."""
    if not isinstance(template, dict):
        raise _bad("template must be a JSON object")
    template_id = template.get("id")
    if not isinstance(template_id, str) or not _ID_RE.match(template_id):
        raise _bad(
            "template.id must be 2 to 64 lower-case letters, digits or '-', "
            "starting with a letter"
        )
    title = template.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TEXT:
        raise _bad(f"template.title must be text of 1 to {MAX_TEXT} characters")
    days = template.get("validity_days")
    if (
        not isinstance(days, int)
        or isinstance(days, bool)
        or not 1 <= days <= MAX_VALIDITY_DAYS
    ):
        raise _bad(
            f"template.validity_days must be an integer from 1 to {MAX_VALIDITY_DAYS}"
        )
    holder_id = template.get("holder_id", "cn-resident-id")
    if holder_id not in HOLDER_ID_FORMATS:
        raise _bad(f"template.holder_id must be one of {', '.join(HOLDER_ID_FORMATS)}")
    claims = template.get("claims")
    if not isinstance(claims, list) or len(claims) > MAX_CLAIMS:
        raise _bad(f"template.claims must be a list of at most {MAX_CLAIMS} claims")
    return {
        "id": template_id,
        "title": title.strip(),
        "validity_days": days,
        "holder_id": holder_id,
        "claims": [_check_claim(i, c) for i, c in enumerate(claims)],
    }


def _check_claim(index: int, claim: Any) -> dict[str, Any]:
    where = f"template.claims[{index}]"
    if not isinstance(claim, dict):
        raise _bad(f"{where} must be an object with name and type")
    name = claim.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in HOLDER_CLAIMS:
        raise _bad(
            f"{where}.name must be 1 to 32 lower-case letters, digits or '_' and not "
            f"{' or '.join(HOLDER_CLAIMS)}"
        )
    kind = claim.get("type", "string")
    if kind not in CLAIM_TYPES:
        raise _bad(f"{where}.type {kind!r} is not one of {', '.join(CLAIM_TYPES)}")
    label = claim.get("label", name)
    if not isinstance(label, str) or len(label) > MAX_TEXT:
        raise _bad(f"{where}.label must be text of at most {MAX_TEXT} characters")
    required = claim.get("required", True)
    if not isinstance(required, bool):
        raise _bad(f"{where}.required must be true or false")
    return {"name": name, "type": kind, "label": label, "required": required}


def check_claims(template: dict[str, Any], claims: dict[str, Any]) -> None:
    """Raise `CertificateError` code `template_mismatch` unless `claims` fit `template`."""
    declared = {c["name"]: c for c in template["claims"]}
    for name in HOLDER_CLAIMS:
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise _mismatch(template, f"claim {name} is missing")
    for name, value in claims.items():
        if name in HOLDER_CLAIMS:
            continue
        spec = declared.get(name)
        if spec is None:
            raise _mismatch(template, f"claim {name} is not part of this type")
        if not _fits(spec["type"], value):
            raise _mismatch(template, f"claim {name} is not a valid {spec['type']}")
    for name, spec in declared.items():
        if spec["required"] and name not in claims:
            raise _mismatch(template, f"required claim {name} is missing")


def _fits(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str) and len(value) <= MAX_TEXT
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _mismatch(template: dict[str, Any], detail: str) -> CertificateError:
    return CertificateError(
        "template_mismatch", f"{detail} (certificate type {template['id']})"
    )


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-template")
