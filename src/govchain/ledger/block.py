"""Block headers: the hash chain over batches of transactions.

A header commits to its predecessor, to its own transactions (an RFC 9162 root
over their leaf hashes), to the whole log after the block (size and root), to
the outcome of every transaction and the state changes they made (the state
digest), and to the block time chosen by the orderer. The committing node signs
the header. The block hash is SHA-256 over the canonical header without its
signature, so a header re-signed by another node keeps its hash and two signed
headers for one height with different hashes prove divergence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from json.encoder import encode_basestring
from typing import Any

from govchain._types import BlockHash, KeyId
from govchain.crypto.keys import PublicKey, SigningKey, b64, unb64
from govchain.errors import IntegrityError
from govchain.ledger.canonical import canonical_json
from govchain.ledger.state import Write

VERSION = 1
SIGNING_DOMAIN = b"govchain/block/v1\n"
#: The previous-block hash of the genesis block.
ZERO_HASH = BlockHash("0" * 64)


@dataclass(frozen=True)
class BlockHeader:
    """A block header. Hashes are lower-case hex; `time` is unix milliseconds."""

    chain: str
    height: int
    prev_hash: BlockHash
    tx_root: str
    tx_count: int
    log_size: int
    log_root: str
    state_digest: str
    time: int
    committer: str
    committer_kid: KeyId
    signature: bytes = b""

    def unsigned_dict(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "chain": self.chain,
            "height": self.height,
            "prev_hash": self.prev_hash,
            "tx_root": self.tx_root,
            "tx_count": self.tx_count,
            "log_size": self.log_size,
            "log_root": self.log_root,
            "state_digest": self.state_digest,
            "time": self.time,
            "committer": self.committer,
            "committer_kid": self.committer_kid,
        }

    @property
    def hash(self) -> BlockHash:
        return BlockHash(
            hashlib.sha256(canonical_json(self.unsigned_dict())).hexdigest()
        )

    def signing_bytes(self) -> bytes:
        return SIGNING_DOMAIN + canonical_json(self.unsigned_dict())

    def signed(self, key: SigningKey) -> BlockHeader:
        return replace(self, signature=key.sign(self.signing_bytes()))

    def verify_signature(self, public_key: PublicKey) -> None:
        public_key.verify(self.signing_bytes(), self.signature)

    def to_dict(self) -> dict[str, Any]:
        body = self.unsigned_dict()
        body["signature"] = b64(self.signature)
        return body

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> BlockHeader:
        try:
            if body["v"] != VERSION:
                raise IntegrityError(f"block header version {body['v']} is unknown")
            return cls(
                chain=str(body["chain"]),
                height=int(body["height"]),
                prev_hash=BlockHash(str(body["prev_hash"])),
                tx_root=str(body["tx_root"]),
                tx_count=int(body["tx_count"]),
                log_size=int(body["log_size"]),
                log_root=str(body["log_root"]),
                state_digest=str(body["state_digest"]),
                time=int(body["time"]),
                committer=str(body["committer"]),
                committer_kid=KeyId(str(body["committer_kid"])),
                signature=unb64(str(body["signature"]), field="signature"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            height = body.get("height") if isinstance(body, dict) else None
            # A KeyError's text is only the quoted key name.
            problem = (
                f"field {exc.args[0]} is missing"
                if isinstance(exc, KeyError)
                else f"a field has the wrong type or value ({exc})"
            )
            raise IntegrityError(
                f"block header is malformed: {problem}",
                height=height if isinstance(height, int) else None,
            ) from exc


def state_digest(results: list[dict[str, Any]], writes: Sequence[Write]) -> str:
    """Digest of a block's outcomes and state writes, in application order.

    It is SHA-256 over `govchain/state/v1` and a newline followed by the
    canonical JSON of `{"results": results, "writes": [{"key", "ns", "value"}]}`,
    with one result `{"reason", "status", "tx"}` (strings) per transaction and a null value
    for a deletion. The JSON is assembled from each write's already encoded
    value; `tests/ledger` checks it equals encoding the whole object.
    """
    return encoded_state_digest(
        canonical_json(
            [
                {"reason": r["reason"], "status": r["status"], "tx": r["tx"]}
                for r in results
            ]
        ),
        writes,
    )


def encoded_state_digest(results_json: bytes, writes: Sequence[Write]) -> str:
    """Return `state_digest` from the canonical JSON of the results list.

    For callers that have encoded the results already, as verify has to
    compare them with the block's.
    """
    digest = hashlib.sha256(b'govchain/state/v1\n{"results":')
    digest.update(results_json)
    digest.update(b',"writes":[')
    for i, write in enumerate(writes):
        if i:
            digest.update(b",")
        digest.update(b'{"key":')
        digest.update(_json_string(write.key))
        digest.update(b',"ns":')
        digest.update(_json_string(write.ns))
        digest.update(b',"value":')
        digest.update(b"null" if write.encoded is None else write.encoded)
        digest.update(b"}")
    digest.update(b"]}")
    return digest.hexdigest()


def _json_string(text: str) -> bytes:
    # The json module's string encoder (what json.dumps calls with
    # ensure_ascii=False) writes a string exactly as RFC 8785 does: the same
    # escapes, and every other character as itself.
    return encode_basestring(text).encode("utf-8")
