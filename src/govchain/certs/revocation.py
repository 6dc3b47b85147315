"""The signed, incremental revocation list that offline verifiers download.

Each status change of a certificate (suspended, reinstated as `valid`, or
revoked) is one entry with a sequence number, the hashed certificate id
(`govchain.certs.cwt.cert_id_hash`), the new status, the block time in unix
milliseconds and a reason code. A verifier keeps the `until` of its last
download and asks for the entries `since` that number next time.
"""

from __future__ import annotations

from typing import Any

from govchain.certs.trust import RevocationEntry, check_document
from govchain.errors import VerificationError

REVOCATION_FORMAT = "govchain-cert-revocations/1"
REVOCATION_DOMAIN = b"govchain/cert-revocations/v1\n"


def read_revocation_list(
    document: Any, *, operator_key: str | None
) -> list[RevocationEntry]:
    """Check a revocation list's signature and return its entries."""
    checked = check_document(
        document,
        domain=REVOCATION_DOMAIN,
        expected_format=REVOCATION_FORMAT,
        operator_key=operator_key,
    )
    try:
        return [
            RevocationEntry(
                seq=int(e["seq"]),
                cert_hash=str(e["cert_hash"]),
                status=str(e["status"]),
                at=int(e["at"]),
                reason=str(e["reason"]),
            )
            for e in checked["entries"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"a revocation list entry is malformed: {exc}") from exc
