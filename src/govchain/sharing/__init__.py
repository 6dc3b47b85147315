"""Sharing: the policy that picks a request's approval path and its deadlines."""

from govchain.sharing.calendar import deadline, is_overdue, is_working_day, local_date
from govchain.sharing.policy import (
    NOT_SHARED_RULE,
    UNCONDITIONAL_RULE,
    ApprovalPath,
    approval_path,
    consumer_scope,
)

__all__ = [
    "NOT_SHARED_RULE",
    "UNCONDITIONAL_RULE",
    "ApprovalPath",
    "approval_path",
    "consumer_scope",
    "deadline",
    "is_overdue",
    "is_working_day",
    "local_date",
]
