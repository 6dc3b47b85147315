"""The consortium: its regions, member departments, sharing policy and node settings.

`load_consortium` reads a consortium file (TOML, described in docs/consortium.md)
and returns a checked `Consortium`. `Consortium.to_dict` and `Consortium.from_dict`
carry it through the genesis transaction unchanged.
"""

from govchain.consortium._model import (
    APPROVERS,
    LEVELS,
    MAX_SENSITIVITY,
    MIN_SENSITIVITY,
    SCOPES,
    SHARING_TYPES,
    ApprovalStep,
    Approver,
    Consortium,
    Department,
    Level,
    NodeConfig,
    Policy,
    PolicyRule,
    Region,
    Scope,
    SharingType,
)
from govchain.consortium.config import (
    build_consortium,
    demo_consortium_text,
    load_consortium,
    load_demo_consortium,
    parse_consortium,
)

__all__ = [
    "APPROVERS",
    "LEVELS",
    "MAX_SENSITIVITY",
    "MIN_SENSITIVITY",
    "SCOPES",
    "SHARING_TYPES",
    "ApprovalStep",
    "Approver",
    "Consortium",
    "Department",
    "Level",
    "NodeConfig",
    "Policy",
    "PolicyRule",
    "Region",
    "Scope",
    "SharingType",
    "build_consortium",
    "demo_consortium_text",
    "load_consortium",
    "load_demo_consortium",
    "parse_consortium",
]
