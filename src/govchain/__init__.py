"""govchain: a permissioned, tamper-evident ledger for sharing government data.

The data stays with the department that owns it. The ledger holds the facts about
that data: catalog entries, content hashes, grants, deliveries and a signed record
of every operation, refused ones included.
"""

from govchain.errors import (
    ConfigError,
    GovchainError,
    IntegrityError,
    PolicyError,
    ValidationError,
    VerificationError,
)

__all__ = [
    "ConfigError",
    "GovchainError",
    "IntegrityError",
    "PolicyError",
    "ValidationError",
    "VerificationError",
]

__version__ = "0.1.0"
