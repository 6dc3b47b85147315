"""BagIt bags (RFC 8493): read and check one, or write one around a payload.

Only what a bag needs to be valid is written: `bagit.txt` (version 1.0,
UTF-8), `bag-info.txt`, `manifest-sha256.txt` for the payload under `data/`,
and `tagmanifest-sha256.txt` for the tag files. Reading accepts the SHA-256
and SHA-512 manifests, checks every manifest line, every payload file and the
`Payload-Oxum`, and names the manifest file and line of the first fault.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from govchain.errors import ValidationError

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
ALGORITHMS = ("sha256", "sha512")


class BagError(ValidationError):
    """A bag is malformed or its payload does not match its manifest."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="bad-bag")


@dataclass
class Bag:
    """A checked bag: its payload files by path below `data/`, and its info."""

    path: Path
    payload: dict[str, Path]
    info: dict[str, list[str]] = field(default_factory=dict)


def is_bag(path: Path) -> bool:
    return path.is_dir() and (path / "bagit.txt").is_file()


def _encode_path(relative: str) -> str:
    return relative.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def _decode_path(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def _digest(path: Path, algorithm: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()


def _files(root: Path) -> list[str]:
    found: list[str] = []
    for base, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            found.append((Path(base) / name).relative_to(root.parent).as_posix())
    return found


def read_bag(path: Path) -> Bag:
    """Check the bag at `path` and return its payload.

    Raises `BagError` naming the file and line at fault: a missing or wrong
    `bagit.txt`, a malformed manifest line, a file listed but absent, a
    payload file not listed, a checksum mismatch or a wrong Payload-Oxum.
    """
    declaration = path / "bagit.txt"
    try:
        text = declaration.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BagError(f"bag {path}: bagit.txt is unreadable: {exc}") from exc
    if not text.startswith("BagIt-Version: "):
        raise BagError(f"{declaration}, line 1: expected 'BagIt-Version: M.N'")
    manifests = [
        (a, path / f"manifest-{a}.txt")
        for a in ALGORITHMS
        if (path / f"manifest-{a}.txt").exists()
    ]
    if not manifests:
        raise BagError(
            f"bag {path} has no manifest-sha256.txt or manifest-sha512.txt; "
            "recreate the bag with a SHA-256 manifest"
        )
    data_dir = path / "data"
    present = set(_files(data_dir)) if data_dir.is_dir() else set()
    links = sorted(rel for rel in present if (path / rel).is_symlink())
    if links:
        # A link could pull a file from outside the bag into the archive.
        raise BagError(
            f"bag {path}: payload file {links[0]} is a symbolic link; a bag must "
            "contain the files themselves"
        )
    for algorithm, manifest in manifests:
        listed = _check_manifest(path, manifest, algorithm, payload=True)
        unlisted = sorted(present - listed)
        if unlisted:
            raise BagError(
                f"{manifest}: payload file {unlisted[0]} is not listed "
                f"({len(unlisted)} unlisted in all)"
            )
    for algorithm in ALGORITHMS:
        tag_manifest = path / f"tagmanifest-{algorithm}.txt"
        if tag_manifest.exists():
            _check_manifest(path, tag_manifest, algorithm, payload=False)
    info = _read_info(path / "bag-info.txt")
    _check_oxum(path, info, present)
    return Bag(
        path=path,
        payload={rel.removeprefix("data/"): path / rel for rel in sorted(present)},
        info=info,
    )


def _check_manifest(
    bag: Path, manifest: Path, algorithm: str, *, payload: bool
) -> set[str]:
    width = hashlib.new(algorithm).digest_size * 2
    listed: set[str] = set()
    try:
        lines = manifest.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BagError(f"{manifest} is unreadable: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != width:
            raise BagError(
                f"{manifest}, line {number}: expected '<{algorithm} hex> <path>'"
            )
        expected, relative = parts[0].lower(), _decode_path(parts[1].strip())
        if relative.startswith("/") or ".." in Path(relative).parts:
            raise BagError(f"{manifest}, line {number}: path leaves the bag")
        if payload and not relative.startswith("data/"):
            raise BagError(f"{manifest}, line {number}: payload path not under data/")
        target = bag / relative
        if not target.is_file():
            raise BagError(
                f"{manifest}, line {number}: listed file {relative} is missing"
            )
        actual = _digest(target, algorithm)
        if actual != expected:
            raise BagError(
                f"{manifest}, line {number}: {relative} has {algorithm} {actual}, "
                f"manifest says {expected}: the file was altered or damaged"
            )
        listed.add(relative)
    return listed


def _read_info(path: Path) -> dict[str, list[str]]:
    info: dict[str, list[str]] = {}
    if not path.exists():
        return info
    last = ""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if line[:1] in (" ", "\t") and last:
            info[last][-1] += " " + line.strip()
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip():
            raise BagError(f"{path}, line {number}: expected 'Label: value'")
        last = label.strip()
        info.setdefault(last, []).append(value.strip())
    return info


def _check_oxum(bag: Path, info: dict[str, list[str]], present: set[str]) -> None:
    values = info.get("Payload-Oxum")
    if not values:
        return
    octets, _dot, count = values[0].partition(".")
    actual_octets = sum((bag / rel).stat().st_size for rel in present)
    if not (octets.isdigit() and count.isdigit()):
        raise BagError(f"{bag / 'bag-info.txt'}: Payload-Oxum is not 'octets.count'")
    if (int(octets), int(count)) != (actual_octets, len(present)):
        raise BagError(
            f"{bag / 'bag-info.txt'}: Payload-Oxum lists {octets} bytes in {count} "
            f"files, the payload has {actual_octets} bytes in {len(present)}"
        )


def write_manifests(bag: Path, info: Iterable[tuple[str, str]]) -> None:
    """Finish a bag whose payload is already under `bag/data` and tags in place.

    Writes `bagit.txt`, `bag-info.txt` (the given labels plus Payload-Oxum),
    `manifest-sha256.txt` and last `tagmanifest-sha256.txt` over every other
    tag file.
    """
    payload = _files(bag / "data")
    octets = sum((bag / rel).stat().st_size for rel in payload)
    (bag / "bagit.txt").write_text(BAGIT_TXT, "utf-8")
    lines = [f"{label}: {value}" for label, value in info]
    lines.append(f"Payload-Oxum: {octets}.{len(payload)}")
    (bag / "bag-info.txt").write_text("\n".join(lines) + "\n", "utf-8")
    manifest = "".join(
        f"{_digest(bag / rel, 'sha256')}  {_encode_path(rel)}\n" for rel in payload
    )
    (bag / "manifest-sha256.txt").write_text(manifest, "utf-8")
    tags = [
        rel
        for rel in _files_in_bag(bag)
        if not rel.startswith("data/") and not rel.startswith("tagmanifest-")
    ]
    tag_manifest = "".join(
        f"{_digest(bag / rel, 'sha256')}  {_encode_path(rel)}\n" for rel in tags
    )
    (bag / "tagmanifest-sha256.txt").write_text(tag_manifest, "utf-8")


def _files_in_bag(bag: Path) -> list[str]:
    found: list[str] = []
    for base, dirs, names in os.walk(bag):
        dirs.sort()
        for name in sorted(names):
            found.append((Path(base) / name).relative_to(bag).as_posix())
    return found
