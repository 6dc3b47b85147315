"""Compare the block-header chains of nodes restored from different backups.

A node restored from an older backup may go on to commit its own blocks at
heights the other nodes already filled, and so fork the ledger. This module
finds where two chains of block headers part, without changing either.

It reads two sources of headers:

- A header export: a JSON Lines file with one object per block, holding
  exactly the fields `height`, `prev_hash`, `anchor_roots` (the Merkle roots
  the block anchors, lower-case hex), `timestamp`, `proposer` and `block_hash`.
  The block hash is SHA-256 over the canonical JSON (`canonical_json`, RFC 8785)
  of the object without `block_hash`. It is recomputed from the fields and the
  stated value is only compared with it, never trusted.
- A govchain ledger store, whose headers are `BlockHeader` records. Their block
  hash is `BlockHeader.hash`, recomputed from the header, and their anchor roots
  are the transaction root and the log root.

`check_chain` walks one chain and stops at the first problem, keeping the
headers verified before it. `compare_chains` then compares the verified parts of
two chains height by height and reports the fork height, the common ancestor,
and the anchor roots found on one side only after the fork. Those roots are
unconfirmed: a Merkle proof that ends in one of them is not anchored until an
operator settles the fork. docs/formats.md describes the export format.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.errors import GovchainError, IntegrityError, ValidationError
from govchain.ledger.block import ZERO_HASH, BlockHeader
from govchain.ledger.canonical import canonical_json
from govchain.ledger.store import LedgerStore

__all__ = [
    "AnchorRoot",
    "ChainBreakError",
    "ChainReport",
    "ExportedHeader",
    "ForkReport",
    "HeaderExportError",
    "check_chain",
    "compare_chains",
    "compare_ledgers",
    "format_fork_report",
    "ledger_chain",
    "read_header_export",
]

EXPORT_FIELDS = (
    "anchor_roots",
    "block_hash",
    "height",
    "prev_hash",
    "proposer",
    "timestamp",
)
_HEX_HASH = re.compile(r"[0-9a-f]{64}")


class HeaderExportError(ValidationError):
    """A line of a header export cannot be read as a block header.

    `path`, `line` and `height` locate the fault. `height` is None when the line
    has no usable height.
    """

    def __init__(self, message: str, *, path: str, line: int, height: int | None):
        super().__init__(message, reason="bad-header-export")
        self.path = path
        self.line = line
        self.height = height


class ChainBreakError(IntegrityError):
    """The first place where a chain of headers stops verifying.

    `kind` names the fault:

    - `hash-mismatch`: the stated block hash is not the hash of the header;
    - `bad-genesis`: block 0 does not link to the zero hash;
    - `gap`: heights are missing;
    - `out-of-order`: a height repeats or goes back;
    - `broken-link`: `prev_hash` is not the previous block's hash;
    - `malformed`: a stored header cannot be parsed.

    `height` is the first bad height, which for a gap is the first missing one.
    `line` is the export line of the offending header, or None for a ledger
    store.
    """

    def __init__(
        self, message: str, *, kind: str, source: str, line: int | None, height: int
    ) -> None:
        super().__init__(message, height=height)
        self.kind = kind
        self.source = source
        self.line = line


@dataclass(frozen=True)
class ExportedHeader:
    """One block header from an export file or a ledger store.

    `block_hash` is always computed here: for an export line it is SHA-256 of
    the canonical JSON of the other fields, for a ledger store `BlockHeader.hash`.
    `stated_hash` is the hash the source recorded next to the header. `line` is
    the 1-based line of the export file, or None for a ledger store.
    """

    height: int
    prev_hash: str
    anchor_roots: tuple[str, ...]
    timestamp: int
    proposer: str
    block_hash: str
    stated_hash: str
    source: str
    line: int | None


@dataclass(frozen=True)
class ChainReport:
    """The result of `check_chain`: the verified headers and the first problem.

    `verified` contains the headers from the start of the chain up to the last
    good height, and `total` counts every header of the source.
    """

    source: str
    verified: tuple[ExportedHeader, ...]
    total: int
    problem: ChainBreakError | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def last_good_height(self) -> int | None:
        """Return the height of the last verified header, or None if none verified."""
        return self.verified[-1].height if self.verified else None


@dataclass(frozen=True)
class AnchorRoot:
    """A Merkle root anchored in a block after the fork on one side only."""

    root: str
    height: int
    source: str
    status: str = "unconfirmed"


@dataclass(frozen=True)
class ForkReport:
    """The result of comparing the verified parts of two chains.

    `fork_height` is the first height both chains hold with different block
    hashes, or None when they agree on every height they share. `hash_a` and
    `hash_b` are the two block hashes at that height. The common ancestor is
    the last height before the fork at which they agree, None when the chains
    differ from their first shared height. `only_a` and `only_b` list the
    anchor roots of blocks at or after the fork that the other chain does not
    hold in any verified block.
    """

    a: ChainReport
    b: ChainReport
    fork_height: int | None
    hash_a: str | None
    hash_b: str | None
    ancestor_height: int | None
    ancestor_hash: str | None
    only_a: tuple[AnchorRoot, ...]
    only_b: tuple[AnchorRoot, ...]

    @property
    def forked(self) -> bool:
        return self.fork_height is not None

    @property
    def shared_heights(self) -> tuple[int, int] | None:
        """Return the first and last height both verified chains hold, or None."""
        return _overlap(self.a.verified, self.b.verified)


# ---------------------------------------------------------------------------
# Reading a header export
# ---------------------------------------------------------------------------


def read_header_export(path: Path) -> list[ExportedHeader]:
    """Read a JSON Lines header export and recompute every block hash.

    Blank lines are skipped; line numbers count every line of the file. Raises
    `HeaderExportError` naming the file, line and height when the file cannot
    be read or a line is not a JSON object with exactly the export fields and
    their types. A stated hash that differs from the recomputed one is not an
    error here: `check_chain` reports it.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HeaderExportError(
            f"header export {path} is unreadable: {exc}",
            path=str(path),
            line=0,
            height=None,
        ) from exc
    headers: list[ExportedHeader] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip():
            headers.append(_parse_export_line(raw, str(path), number))
    return headers


def _parse_export_line(raw: bytes, path: str, line: int) -> ExportedHeader:
    def fail(message: str, height: int | None = None) -> HeaderExportError:
        where = "height unknown" if height is None else f"height {height}"
        return HeaderExportError(
            f"{path}, line {line} ({where}): {message}",
            path=path,
            line=line,
            height=height,
        )

    try:
        body = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_reject_duplicate_keys,
            parse_float=_reject_float,
            parse_constant=_reject_float,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise fail(f"not a JSON object in UTF-8: {exc}") from exc
    if not isinstance(body, dict):
        raise fail(f"expected a JSON object, got {type(body).__name__}")
    height = body.get("height")
    known_height = height if _is_int(height) else None
    fields = sorted(body)
    if fields != sorted(EXPORT_FIELDS):
        missing = sorted(set(EXPORT_FIELDS) - set(body))
        unknown = sorted(set(body) - set(EXPORT_FIELDS))
        raise fail(
            f"header fields differ from the export format: missing {missing}, "
            f"unknown {unknown}",
            known_height,
        )
    problem = _field_problem(body)
    if problem is not None:
        raise fail(problem, known_height)
    unhashed = {name: body[name] for name in EXPORT_FIELDS if name != "block_hash"}
    try:
        computed = hashlib.sha256(canonical_json(unhashed)).hexdigest()
    except ValidationError as exc:
        raise fail(f"header cannot be hashed: {exc}", known_height) from exc
    return ExportedHeader(
        height=body["height"],
        prev_hash=body["prev_hash"],
        anchor_roots=tuple(body["anchor_roots"]),
        timestamp=body["timestamp"],
        proposer=body["proposer"],
        block_hash=computed,
        stated_hash=body["block_hash"],
        source=path,
        line=line,
    )


def _field_problem(body: dict[str, Any]) -> str | None:
    """Describe the first field of an export object with a wrong type, if any."""
    if not _is_int(body["height"]) or body["height"] < 0:
        return "height is not a non-negative integer"
    if not _is_int(body["timestamp"]):
        return "timestamp is not an integer"
    if not isinstance(body["proposer"], str) or not body["proposer"]:
        return "proposer is not a non-empty string"
    for name in ("prev_hash", "block_hash"):
        if not _is_hex_hash(body[name]):
            return f"{name} is not 64 lower-case hex digits"
    roots = body["anchor_roots"]
    if not isinstance(roots, list):
        return "anchor_roots is not a list"
    for index, root in enumerate(roots):
        if not _is_hex_hash(root):
            return f"anchor_roots[{index}] is not 64 lower-case hex digits"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_hex_hash(value: object) -> bool:
    return isinstance(value, str) and _HEX_HASH.fullmatch(value) is not None


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in pairs:
        if key in body:
            raise ValueError(f"field {key!r} appears twice")
        body[key] = value
    return body


def _reject_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer")


# ---------------------------------------------------------------------------
# Checking one chain
# ---------------------------------------------------------------------------


def check_chain(headers: Sequence[ExportedHeader], source: str) -> ChainReport:
    """Check that `headers` form one hash chain and return what verified.

    The chain may start above height 0, as an export of recent blocks does; it
    is then checked from its first header on. Verification stops at the first
    problem, which the report carries as a `ChainBreakError`. Nothing is raised
    for a broken chain.
    """
    verified: list[ExportedHeader] = []
    for header in headers:
        previous = verified[-1] if verified else None
        problem = _link_problem(previous, header, source)
        if problem is not None:
            return ChainReport(source, tuple(verified), len(headers), problem)
        verified.append(header)
    return ChainReport(source, tuple(verified), len(headers), None)


def _link_problem(
    previous: ExportedHeader | None, header: ExportedHeader, source: str
) -> ChainBreakError | None:
    """Check one header against the verified header before it.

    1. The stated hash equals the hash recomputed from the header.
    2. Block 0 links to the zero hash.
    3. The height is the previous height plus one.
    4. `prev_hash` is the previous block's hash.
    """
    where = _where(source, header.line)
    stop = _stop_text(previous)

    def problem(kind: str, height: int, message: str) -> ChainBreakError:
        return ChainBreakError(
            f"{where}: {message}; {stop}",
            kind=kind,
            source=source,
            line=header.line,
            height=height,
        )

    # 1. The stated hash is the hash of the header's fields.
    if header.stated_hash != header.block_hash:
        return problem(
            "hash-mismatch",
            header.height,
            f"block {header.height} states hash {header.stated_hash} but its "
            f"fields hash to {header.block_hash}",
        )

    # 2. Genesis.
    if previous is None:
        if header.height == 0 and header.prev_hash != ZERO_HASH:
            return problem(
                "bad-genesis",
                0,
                f"block 0 has prev_hash {header.prev_hash}, expected the zero hash",
            )
        return None

    # 3. Contiguous heights.
    expected = previous.height + 1
    if header.height < expected:
        return problem(
            "out-of-order",
            header.height,
            f"block {header.height} follows block {previous.height}; heights must "
            f"rise by one",
        )
    if header.height > expected:
        return problem("gap", expected, _gap_text(previous, header))

    # 4. The hash link.
    if header.prev_hash != previous.block_hash:
        return problem(
            "broken-link",
            header.height,
            f"block {header.height} has prev_hash {header.prev_hash} but block "
            f"{previous.height} has hash {previous.block_hash}",
        )
    return None


def _gap_text(previous: ExportedHeader, header: ExportedHeader) -> str:
    first, last = previous.height + 1, header.height - 1
    missing = f"height {first} is" if first == last else f"heights {first}-{last} are"
    link = "matches" if header.prev_hash == previous.block_hash else "does not match"
    return (
        f"{missing} missing: block {header.height} follows block {previous.height}, "
        f"and its prev_hash {header.prev_hash} {link} the hash of block "
        f"{previous.height} ({previous.block_hash})"
    )


def _where(source: str, line: int | None) -> str:
    return source if line is None else f"{source}, line {line}"


def _stop_text(previous: ExportedHeader | None) -> str:
    if previous is None:
        return "no block verified"
    return f"verification stops at height {previous.height}"


# ---------------------------------------------------------------------------
# Comparing two chains
# ---------------------------------------------------------------------------


def compare_chains(a: ChainReport, b: ChainReport) -> ForkReport:
    """Compare the verified headers of two chains and locate any fork.

    Only heights that both chains verified are compared, so a problem in one
    chain limits the comparison to the part before it. Neither report is
    changed. When the chains share no height, no fork is reported and
    `shared_heights` is None.
    """
    by_height_b = {header.height: header for header in b.verified}
    fork: tuple[ExportedHeader, ExportedHeader] | None = None
    ancestor: ExportedHeader | None = None
    for header_a in a.verified:
        header_b = by_height_b.get(header_a.height)
        if header_b is None:
            continue
        if header_a.block_hash != header_b.block_hash:
            fork = (header_a, header_b)
            break
        ancestor = header_a
    if fork is None:
        return ForkReport(a, b, None, None, None, None, None, (), ())
    fork_height = fork[0].height
    return ForkReport(
        a=a,
        b=b,
        fork_height=fork_height,
        hash_a=fork[0].block_hash,
        hash_b=fork[1].block_hash,
        ancestor_height=None if ancestor is None else ancestor.height,
        ancestor_hash=None if ancestor is None else ancestor.block_hash,
        only_a=_one_sided_roots(a, b, fork_height),
        only_b=_one_sided_roots(b, a, fork_height),
    )


def _one_sided_roots(
    side: ChainReport, other: ChainReport, fork_height: int
) -> tuple[AnchorRoot, ...]:
    other_roots = {root for header in other.verified for root in header.anchor_roots}
    return tuple(
        AnchorRoot(root, header.height, side.source)
        for header in side.verified
        if header.height >= fork_height
        for root in header.anchor_roots
        if root not in other_roots
    )


def _overlap(
    a: Sequence[ExportedHeader], b: Sequence[ExportedHeader]
) -> tuple[int, int] | None:
    if not a or not b:
        return None
    first = max(a[0].height, b[0].height)
    last = min(a[-1].height, b[-1].height)
    return (first, last) if first <= last else None


# ---------------------------------------------------------------------------
# Ledger stores
# ---------------------------------------------------------------------------


def compare_ledgers(
    store_a: LedgerStore | Path, store_b: LedgerStore | Path
) -> ForkReport:
    """Compare the block headers of two govchain ledger stores.

    A path is opened read-only and closed again; an open `LedgerStore` is read
    through its connection and left open. Nothing is written to either store.
    Each store is checked as `check_chain` checks an export, with the hash
    column of each stored block as the stated hash, and the verified parts
    are compared with `compare_chains`.
    """
    return compare_chains(ledger_chain(store_a), ledger_chain(store_b))


def ledger_chain(store: LedgerStore | Path) -> ChainReport:
    """Check the block headers of a ledger store as `check_chain` checks an export."""
    if isinstance(store, LedgerStore):
        return _readledger_chain(store)
    opened = LedgerStore(store, readonly=True)
    try:
        return _readledger_chain(opened)
    finally:
        opened.close()


def _readledger_chain(store: LedgerStore) -> ChainReport:
    source = str(store.path)
    headers: list[ExportedHeader] = []
    for height, stored_hash, header_bytes, _results in store.block_rows():
        try:
            header = BlockHeader.from_dict(json.loads(header_bytes))
            if header.height != height:
                raise IntegrityError(f"the header contains height {header.height}")
        except (ValueError, GovchainError) as exc:
            return _malformed_store_block(headers, source, height, exc)
        headers.append(_store_header(header, str(stored_hash), source))
    return check_chain(headers, source)


def _malformed_store_block(
    headers: list[ExportedHeader], source: str, height: int, exc: Exception
) -> ChainReport:
    """Report the headers before an unreadable stored block, or their own problem."""
    report = check_chain(headers, source)
    if report.problem is not None:
        return report
    message = (
        f"{source}: block {height} has a malformed header: {exc}; "
        f"{_stop_text(report.verified[-1] if report.verified else None)}"
    )
    problem = ChainBreakError(
        message, kind="malformed", source=source, line=None, height=height
    )
    return ChainReport(source, report.verified, report.total + 1, problem)


def _store_header(header: BlockHeader, stated_hash: str, source: str) -> ExportedHeader:
    return ExportedHeader(
        height=header.height,
        prev_hash=header.prev_hash,
        anchor_roots=(header.tx_root, header.log_root),
        timestamp=header.time,
        proposer=header.committer,
        block_hash=header.hash,
        stated_hash=stated_hash,
        source=source,
        line=None,
    )


# ---------------------------------------------------------------------------
# Text for people
# ---------------------------------------------------------------------------


def format_fork_report(report: ForkReport) -> str:
    """Render a fork report as text for an operator, ending in a newline."""
    lines = [_chain_line("A", report.a), _chain_line("B", report.b)]
    shared = report.shared_heights
    if shared is None:
        lines.append("the chains share no verified height, so nothing was compared")
    elif report.fork_height is None:
        lines.append(
            f"no fork: both chains hold the same blocks at heights "
            f"{shared[0]}-{shared[1]}"
        )
        lines.extend(_behind_lines(report))
    else:
        lines.extend(_fork_lines(report))
    lines.append("neither chain was changed")
    return "\n".join(lines) + "\n"


def _chain_line(label: str, chain: ChainReport) -> str:
    if chain.problem is None:
        span = _span(chain)
        return f"{label}: {chain.source}: {len(chain.verified)} blocks verified{span}"
    return f"{label}: {chain.source}: {chain.problem.kind}: {chain.problem}"


def _span(chain: ChainReport) -> str:
    if not chain.verified:
        return ""
    return f" (heights {chain.verified[0].height}-{chain.verified[-1].height})"


def _behind_lines(report: ForkReport) -> list[str]:
    top_a, top_b = report.a.last_good_height, report.b.last_good_height
    if top_a is None or top_b is None or top_a == top_b:
        return []
    behind, ahead, top = ("A", "B", top_b) if top_a < top_b else ("B", "A", top_a)
    low = min(top_a, top_b)
    return [
        f"{behind}'s verified chain ends at height {low}: {behind} can take heights "
        f"{low + 1}-{top} from {ahead}, which agrees with it up to there"
    ]


def _fork_lines(report: ForkReport) -> list[str]:
    lines = [
        f"fork at height {report.fork_height}:",
        f"  A: {report.hash_a}",
        f"  B: {report.hash_b}",
    ]
    if report.ancestor_height is None:
        lines.append(
            "no common ancestor: the chains differ from their first shared block"
        )
    else:
        lines.append(
            f"common ancestor: height {report.ancestor_height}, {report.ancestor_hash}"
        )
    for label, roots in (("A", report.only_a), ("B", report.only_b)):
        if roots:
            lines.append(
                f"anchor roots only in {label} after the fork (unconfirmed: a proof "
                f"that ends in one of them is not anchored):"
            )
            lines.extend(f"  height {r.height}: {r.root}" for r in roots)
    lines.append(
        "do not sync or append across the fork: keep both chains and decide which "
        "branch is valid before a node commits further blocks"
    )
    return lines
