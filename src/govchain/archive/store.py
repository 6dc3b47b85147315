"""The content-addressed store: every object in every replica, written atomically.

An object is a file's bytes, named by their SHA-256. Small objects are packed:
the objects of one ingest batch are concatenated into one pack file, written
identically to every replica, so a batch of ten thousand small files costs a
few sequential writes instead of twenty thousand file creations. Objects of
`pack_threshold` bytes or more are stored loose, one file each.

Layout of a replica directory:

```
packs/<pack>.pack           objects back to back, no framing
packs/<pack>.idx            one line per object: sha256 offset size
objects/<ab>/<sha256>       loose objects, under the first two hex digits
```

Every file is written to a temporary name in its final directory, fsynced,
renamed into place, and the directory fsynced, so a reader never sees a
partial file and a crash leaves at most a `.tmp-` file behind.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from govchain.archive.config import Replica
from govchain.errors import GovchainError, ValidationError

logger = logging.getLogger(__name__)

COPY_CHUNK = 1 << 20


class ReplicaError(GovchainError):
    """A replica location cannot be written: full, read-only or missing."""

    def __init__(self, message: str, *, replica: str, path: str) -> None:
        super().__init__(message)
        self.replica = replica
        self.path = path


@dataclass(frozen=True)
class ObjectRef:
    """An object's location: a pack and offset, or a loose file when `pack` is None."""

    sha256: str
    size: int
    pack: str | None = None
    offset: int = 0


def replica_error(replica: Replica, path: Path, exc: OSError) -> ReplicaError:
    """Turn an OS error on `path` into an error that tells the operator what to do."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        fault = "is full (no space left on the device)"
        action = "free space there or point the replica elsewhere in archive.toml"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fault = f"is not writable ({os.strerror(exc.errno)})"
        action = "make the location writable or point the replica elsewhere"
    else:
        fault = f"failed: {exc.strerror or exc}"
        action = "check the location and try again"
    return ReplicaError(
        f"replica {replica.name} at {replica.path} {fault} while writing {path.name}; "
        f"{action}; nothing from this batch was anchored",
        replica=replica.name,
        path=str(path),
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(target: Path, chunks: Iterable[bytes]) -> None:
    """Write `chunks` to `target` through a temporary file, fsync and rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}-{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def pack_path(replica: Replica, pack: str) -> Path:
    return replica.path / "packs" / f"{pack}.pack"


def loose_path(replica: Replica, sha256: str) -> Path:
    return replica.path / "objects" / sha256[:2] / sha256


def object_path(replica: Replica, ref: ObjectRef) -> Path:
    return (
        loose_path(replica, ref.sha256)
        if ref.pack is None
        else pack_path(replica, ref.pack)
    )


class ObjectStore:
    """The replicas of one archive; writes go to all of them or to none."""

    def __init__(self, replicas: Iterable[Replica]) -> None:
        self.replicas = tuple(replicas)

    def check_writable(self) -> None:
        """Raise `ReplicaError` unless every replica directory accepts a file."""
        for replica in self.replicas:
            probe = replica.path / f".tmp-probe-{os.getpid()}"
            try:
                replica.path.mkdir(parents=True, exist_ok=True)
                atomic_write(probe, [b"probe"])
                probe.unlink()
            except OSError as exc:
                raise replica_error(replica, probe, exc) from exc

    def write_pack(self, pack: str, blobs: list[tuple[str, bytes]]) -> list[ObjectRef]:
        """Write the objects `(sha256, bytes)` as pack `pack` in every replica.

        If any replica fails, the copies already written are removed again and
        `ReplicaError` is raised, so the pack exists everywhere or nowhere.
        """
        refs: list[ObjectRef] = []
        offset = 0
        for sha256, data in blobs:
            refs.append(ObjectRef(sha256, len(data), pack, offset))
            offset += len(data)
        index = "".join(f"{r.sha256} {r.offset} {r.size}\n" for r in refs).encode()
        content = b"".join(data for _sha, data in blobs)
        written: list[Path] = []
        for replica in self.replicas:
            target = pack_path(replica, pack)
            try:
                atomic_write(target, [content])
                written.append(target)
                atomic_write(target.with_suffix(".idx"), [index])
                written.append(target.with_suffix(".idx"))
            except OSError as exc:
                _remove(written)
                raise replica_error(replica, target, exc) from exc
        return refs

    def write_loose(self, sha256: str, source: Path) -> ObjectRef:
        """Copy `source`, whose SHA-256 is `sha256`, as a loose object everywhere.

        Raises `ValidationError` when the file changed since it was hashed and
        `ReplicaError` when a replica cannot take it; either way no replica
        keeps the object.
        """
        written: list[Path] = []
        size = 0
        for replica in self.replicas:
            target = loose_path(replica, sha256)
            digest = hashlib.sha256()
            try:
                with open(source, "rb") as fh:
                    chunks = iter(lambda: fh.read(COPY_CHUNK), b"")
                    atomic_write(target, _hashing(chunks, digest))
                    size = fh.tell()
            except OSError as exc:
                _remove(written)
                if exc.filename == str(source):
                    raise ValidationError(
                        f"file {source} became unreadable while being stored: {exc}",
                        reason="unreadable",
                    ) from exc
                raise replica_error(replica, target, exc) from exc
            written.append(target)
            if digest.hexdigest() != sha256:
                _remove(written)
                raise ValidationError(
                    f"file {source} changed while being stored; ingest it again once "
                    "nothing writes to it",
                    reason="changed",
                )
        return ObjectRef(sha256, size)

    def remove(self, refs: list[ObjectRef]) -> None:
        """Delete objects of a batch that failed, with their packs, from every replica."""
        packs = {ref.pack for ref in refs if ref.pack is not None}
        for replica in self.replicas:
            paths = [loose_path(replica, r.sha256) for r in refs if r.pack is None]
            for pack in packs:
                target = pack_path(replica, pack)
                paths += [target, target.with_suffix(".idx")]
            _remove(paths)

    def read(self, replica: Replica, ref: ObjectRef) -> bytes:
        """Read one object's bytes from `replica` (no hash check)."""
        if ref.pack is None:
            return loose_path(replica, ref.sha256).read_bytes()
        with open(pack_path(replica, ref.pack), "rb") as fh:
            fh.seek(ref.offset)
            return fh.read(ref.size)

    def copy_out(self, replica: Replica, ref: ObjectRef, target: Path) -> str:
        """Copy an object to `target` and return the SHA-256 of what was copied."""
        digest = hashlib.sha256()
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            if ref.pack is None:
                with open(loose_path(replica, ref.sha256), "rb") as fh:
                    for chunk in iter(lambda: fh.read(COPY_CHUNK), b""):
                        digest.update(chunk)
                        out.write(chunk)
            else:
                data = self.read(replica, ref)
                digest.update(data)
                out.write(data)
        return digest.hexdigest()

    def blank(self, refs: list[ObjectRef]) -> None:
        """Erase disposed objects in every replica.

        A loose object is deleted. A packed object's bytes are overwritten with
        zeros through a rewrite of its pack, so the other objects keep their
        offsets.
        """
        for replica in self.replicas:
            for ref in refs:
                if ref.pack is None:
                    loose_path(replica, ref.sha256).unlink(missing_ok=True)
            by_pack: dict[str, list[ObjectRef]] = {}
            for ref in refs:
                if ref.pack is not None:
                    by_pack.setdefault(ref.pack, []).append(ref)
            for pack, members in by_pack.items():
                path = pack_path(replica, pack)
                if not path.exists():
                    continue
                data = bytearray(path.read_bytes())
                for ref in members:
                    data[ref.offset : ref.offset + ref.size] = bytes(ref.size)
                try:
                    atomic_write(path, [bytes(data)])
                except OSError as exc:
                    raise replica_error(replica, path, exc) from exc


def _hashing(chunks: Iterable[bytes], digest: hashlib._Hash) -> Iterable[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove partial copy %s", path)


def free_bytes(replica: Replica) -> int:
    """Return the free bytes at a replica location, for status output."""
    return shutil.disk_usage(replica.path).free
