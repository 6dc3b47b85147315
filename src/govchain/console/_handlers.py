"""The ledger record of a console action that a user's role does not allow.

The console checks roles before it signs anything. When a user tries an action
on data (a resource, a request, a grant) that the user's role does not allow,
the console submits a `console.refusal` transaction signed by the user's
department. Its handler always rejects it with reason `role-not-allowed`, so the
attempt stays on the log as a rejected transaction, in the audit trail of the
resource and the department, like any other refused attempt. It changes no state.
"""

from __future__ import annotations

from govchain.errors import PolicyError, ValidationError
from govchain.ledger.state import TxContext, handler

#: Payload fields that name what the attempt concerned, and their subject prefix.
SUBJECT_FIELDS = {"resource": "resource", "request": "request", "grant": "grant"}


@handler("console.refusal")
def refusal(ctx: TxContext) -> None:
    payload = ctx.tx.payload
    action = payload.get("action")
    role = payload.get("role")
    if not isinstance(action, str) or not isinstance(role, str):
        raise ValidationError(
            "a console refusal names the action and the role as strings",
            reason="bad-payload",
        )
    ctx.add_subject(f"dept:{ctx.tx.dept}")
    for name, prefix in SUBJECT_FIELDS.items():
        value = payload.get(name)
        if isinstance(value, str) and value:
            ctx.add_subject(f"{prefix}:{value}")
    raise PolicyError(
        f"the console role {role!r} may not {action}", reason="role-not-allowed"
    )
