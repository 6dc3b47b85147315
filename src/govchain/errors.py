"""Exceptions raised by govchain.

```
GovchainError
├── ConfigError          a consortium file, node home or key store is unusable
├── ValidationError      input (a transaction, a spreadsheet row) breaks a rule
│   └── PolicyError      well-formed input that the consortium rules forbid
├── VerificationError    a signature, proof or checkpoint does not verify
│   └── RootMismatchError   a proof leads to another root than the one trusted
└── IntegrityError       stored ledger data disagrees with itself
```

The library raises these with their context as attributes. The CLI and the HTTP
API turn them into messages for people in one place each. Messages never contain
personal data: they name the file, row, column or field instead of the value.
"""

from __future__ import annotations


class GovchainError(Exception):
    """Base class of every error govchain raises on purpose."""


class ConfigError(GovchainError):
    """A consortium file, node home or key store cannot be used as given."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ValidationError(GovchainError):
    """Input breaks a rule: a malformed transaction, a bad row, an unknown field.

    `reason` is a short stable code (such as `bad-signature`) that is recorded on
    the ledger when the input was a transaction.
    """

    def __init__(self, message: str, *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class PolicyError(ValidationError):
    """A well-formed request that the consortium's rules do not allow."""


class VerificationError(GovchainError):
    """A signature, Merkle proof, checkpoint or evidence bundle does not verify."""


class RootMismatchError(VerificationError):
    """A proof computes a root other than the trusted one."""

    def __init__(self, *, expected: bytes, computed: bytes) -> None:
        super().__init__(
            f"computed root {computed.hex()} does not match expected root "
            f"{expected.hex()}"
        )
        self.expected = expected
        self.computed = computed


class IntegrityError(GovchainError):
    """Stored ledger data disagrees with itself.

    `height` and `tx_id` name the first bad block and transaction when known.
    """

    def __init__(
        self, message: str, *, height: int | None = None, tx_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.height = height
        self.tx_id = tx_id
