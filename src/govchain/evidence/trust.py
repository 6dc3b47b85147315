"""Trust files, and the rule for which signatures on a checkpoint count.

A trust file lists the verifier keys of one ledger with the role of each:

```
# comments start with '#'
format govchain-trust/v2
origin govchain.example/guangzhou-440100
witness-threshold 2
node node-city-bdb+2613664e+AUOn...
witness city-health+61600456+AYqI...
department city-health+61600456+AYqI...
```

`node` and `witness` keys may sign checkpoints. `department` keys sign
transactions only. A witness department appears twice, once per role.
`witness-threshold` is the consortium's `witness_threshold`: the number of
witness cosignatures a checkpoint needs besides a node's signature.

Files written before roles existed list one bare verifier key per line. They
are rejected, because they do not state which keys may sign checkpoints.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

from govchain.errors import ConfigError, ValidationError, VerificationError
from govchain.ledger.checkpoint import (
    SIGNATURE_PREFIX,
    Checkpoint,
    NoteVerifier,
    open_checkpoint,
)

TRUST_FORMAT = "govchain-trust/v2"

#: Signature lines described one by one in an error; the rest are counted.
_MAX_LISTED = 20
_ROLES = ("node", "witness", "department")
_NEW_FILE_HINT = (
    "write a new one with `govchain keys --out FILE` on a node of the ledger and "
    "compare it with the operator's copy"
)


class UntrustedCheckpointError(VerificationError):
    """No key that may sign checkpoints signed enough of a checkpoint note."""


class TrustedKeys(list[NoteVerifier]):
    """The verifier keys of one ledger, by role, and its witness threshold.

    The list items are the checkpoint keys (node keys, then witness keys), so
    the value also works where a list of checkpoint verifiers is expected. A
    copy or slice is a plain list and loses the roles and the threshold.
    """

    def __init__(
        self,
        *,
        origin: str,
        witness_threshold: int,
        nodes: list[NoteVerifier],
        witnesses: list[NoteVerifier],
        departments: list[NoteVerifier],
    ) -> None:
        super().__init__([*nodes, *witnesses])
        self.origin = origin
        self.witness_threshold = witness_threshold
        self.nodes = list(nodes)
        self.witnesses = list(witnesses)
        self.departments = list(departments)

    def to_text(self) -> str:
        """Render the keys as a trust file."""
        lines = [
            f"# govchain trust file of the ledger {self.origin}.",
            "# node and witness keys may sign checkpoints; department keys sign",
            "# transactions. Keys are verifier keys (name+key hash+base64), current",
            "# and past. Check this file against a copy obtained from the operator",
            "# through another channel before relying on it.",
            f"format {TRUST_FORMAT}",
            f"origin {self.origin}",
            f"witness-threshold {self.witness_threshold}",
        ]
        for role, verifiers in zip(
            _ROLES, (self.nodes, self.witnesses, self.departments), strict=True
        ):
            lines += [f"{role} {verifier.vkey()}" for verifier in verifiers]
        return "\n".join(lines) + "\n"


def read_trust_file(path: Path) -> TrustedKeys:
    """Read a trust file; raise `ConfigError` naming the line at fault."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"trust file {path} is unreadable: {exc}", path=str(path)
        ) from exc
    return parse_trust_text(text, str(path))


def parse_trust_text(text: str, source: str) -> TrustedKeys:
    """Parse trust file text; `source` names it in error messages."""
    fields: dict[str, str] = {}
    keys: dict[str, list[NoteVerifier]] = {role: [] for role in _ROLES}
    entries: list[tuple[str, NoteVerifier, int]] = []
    # A byte order mark, which some Windows editors write, is not content.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        keyword, *rest = content.split(None, 1)
        value = rest[0].strip() if rest else ""
        if keyword in _ROLES:
            verifier = _verifier(value, source, number)
            keys[keyword].append(verifier)
            entries.append((keyword, verifier, number))
        elif keyword in ("format", "origin", "witness-threshold"):
            if keyword in fields:
                raise ConfigError(
                    f"{source}, line {number}: {keyword} is given twice", path=source
                )
            fields[keyword] = value
        elif "+" in keyword and not value and "format" not in fields:
            raise ConfigError(
                f"{source}, line {number}: this trust file lists bare verifier keys, "
                "the format used before keys had roles, so it does not state which "
                f"keys may sign checkpoints; {_NEW_FILE_HINT}",
                path=source,
            )
        else:
            raise ConfigError(
                f"{source}, line {number}: unknown entry {keyword[:40]!r}; expected "
                "format, origin, witness-threshold, node, witness or department",
                path=source,
            )
    if fields.get("format") != TRUST_FORMAT:
        raise ConfigError(
            f"{source} is not a {TRUST_FORMAT} trust file (its format line is "
            f"{fields.get('format', 'missing')!r}); {_NEW_FILE_HINT}",
            path=source,
        )
    for required in ("origin", "witness-threshold"):
        if not fields.get(required):
            raise ConfigError(f"{source} has no {required} line", path=source)
    threshold = fields["witness-threshold"]
    if (
        not (threshold.isascii() and threshold.isdecimal())
        or not 1 <= int(threshold) <= 1000
    ):
        raise ConfigError(
            f"{source}: witness-threshold {threshold[:20]!r} is not a whole number "
            "from 1 to 1000",
            path=source,
        )
    _check_one_role_per_key(entries, source)
    if not keys["node"]:
        raise ConfigError(
            f"{source} lists no node key, so no checkpoint can verify; "
            f"{_NEW_FILE_HINT}",
            path=source,
        )
    return TrustedKeys(
        origin=fields["origin"],
        witness_threshold=int(threshold),
        nodes=keys["node"],
        witnesses=keys["witness"],
        departments=keys["department"],
    )


def _check_one_role_per_key(
    entries: list[tuple[str, NoteVerifier, int]], source: str
) -> None:
    """Raise `ConfigError` when one public key is listed twice.

    A key listed as a node's and a department's would let a department sign
    checkpoints, and one key under two witness names would count twice. The
    one repeat allowed is a witness department's key, listed under its name
    once as witness and once as department.
    """
    first: dict[bytes, tuple[str, str, int]] = {}
    for role, verifier, number in entries:
        raw = verifier.public_key.raw
        if raw not in first:
            first[raw] = (role, verifier.name, number)
            continue
        first_role, first_name, first_number = first[raw]
        if {role, first_role} == {"witness", "department"} and (
            verifier.name == first_name
        ):
            continue
        raise ConfigError(
            f"{source}, line {number}: the {role} key {verifier.name} is the same "
            f"key as the {first_role} key {first_name} on line {first_number}; each "
            "key belongs to one node, witness or department (a witness "
            "department's key is listed once as witness and once as department). "
            f"Remove the line or {_NEW_FILE_HINT}",
            path=source,
        )


def _verifier(value: str, source: str, number: int) -> NoteVerifier:
    try:
        return NoteVerifier.from_vkey(value)
    except (ValueError, VerificationError, ValidationError) as exc:
        raise ConfigError(
            f"{source}, line {number}: not a verifier key (name+hash+base64): {exc}",
            path=source,
        ) from exc


@dataclass(frozen=True)
class CheckpointSignatures:
    """A checkpoint whose signatures by checkpoint keys all verified.

    `nodes` and `witnesses` name the node and witness keys that signed, each
    name once. `found` describes every signature line of the note and whether
    it counted, for error messages.
    """

    checkpoint: Checkpoint
    nodes: list[str]
    witnesses: list[str]
    found: list[str]

    def describe(self) -> str:
        """Return which signatures the note carries and which of them counted."""
        return describe_signatures(self.found)


def open_trusted_checkpoint(
    note: bytes, keys: TrustedKeys, *, origin: str
) -> CheckpointSignatures:
    """Verify a checkpoint against the node and witness keys of `keys`.

    Raises `UntrustedCheckpointError` when no node or witness key signed it.
    Its message names every signature found and why it does not count. Raises
    the errors of `open_checkpoint` when the note is malformed, is for another
    origin or carries a failing signature by a checkpoint key.
    """
    found: list[str] = []
    nodes: list[str] = []
    witnesses: list[str] = []
    for name, key_hash in _signature_lines(note):
        role = _role(name, key_hash, keys)
        counted = {"node": nodes, "witness": witnesses}.get(role)
        if counted is None:
            found.append(f"{name} ({role})")
            continue
        if name not in counted:
            counted.append(name)
        found.append(f"{name} ({role} key, counted)")
    if not nodes and not witnesses:
        raise UntrustedCheckpointError(
            f"no node or witness key of {keys.origin or origin} signed the checkpoint: "
            f"{describe_signatures(found)}; only these keys may sign checkpoints: "
            f"{_key_names(keys)}"
        )
    checkpoint, _names = open_checkpoint(note, list(keys), origin=origin)
    return CheckpointSignatures(checkpoint, nodes, witnesses, found)


def describe_signatures(found: list[str]) -> str:
    """Render the signature descriptions of `CheckpointSignatures.found`."""
    if not found:
        return "the note carries no readable signature line"
    listed = ", ".join(found[:_MAX_LISTED])
    more = len(found) - _MAX_LISTED
    suffix = f" and {more} more" if more > 0 else ""
    return f"signatures found: {listed}{suffix}"


def _key_names(keys: TrustedKeys) -> str:
    nodes = sorted({v.name for v in keys.nodes})
    witnesses = sorted({v.name for v in keys.witnesses})
    text = f"nodes {', '.join(nodes) or 'none'}"
    return text + f"; witnesses {', '.join(witnesses) or 'none'}"


def _role(name: str, key_hash: bytes | None, keys: TrustedKeys) -> str:
    """Return `node` or `witness`, or why a signature line does not count."""
    for role, verifiers in (("node", keys.nodes), ("witness", keys.witnesses)):
        if any(v.name == name and v.key_hash == key_hash for v in verifiers):
            return role
    if any(v.name == name and v.key_hash == key_hash for v in keys.departments):
        return "department key: it signs transactions, not checkpoints"
    if any(v.name == name for v in (*keys, *keys.departments)):
        return "a key of that name, but not one the trust file lists"
    return "unknown key: not in the trust file"


def _signature_lines(note: bytes) -> list[tuple[str, bytes | None]]:
    """List the key name and key hash of each signature line, leniently.

    Used only to describe a note. `open_checkpoint` parses it strictly.
    """
    split = note.rfind(b"\n\n")
    if split < 0:
        return []
    block = note[split + 2 :].decode("utf-8", errors="replace")
    found: list[tuple[str, bytes | None]] = []
    for line in block.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        name, _space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            key_hash: bytes | None = base64.b64decode(encoded, validate=True)[:4]
        except (binascii.Error, ValueError):
            key_hash = None
        found.append((name[:64], key_hash))
    return found
