"""Evidence bundles: one ledger record with everything needed to check it offline."""

from govchain.evidence.bundle import (
    BUNDLE_FORMAT,
    export_bundle,
    read_trust_file,
    verify_bundle,
)
from govchain.evidence.trust import TrustedKeys

__all__ = [
    "BUNDLE_FORMAT",
    "TrustedKeys",
    "export_bundle",
    "read_trust_file",
    "verify_bundle",
]
