"""Dataset versions off the ledger: canonical rows, their hashes, and a store.

The ledger records a version's content hash, row count and schema hash; the
rows stay with the owning department in a content-addressed store inside its
node home. The content hash is an RFC 9162 Merkle root over the canonical rows
(each row a JSON array of cell strings or nulls, in field order), so a single
row can later be proven part of a version without revealing the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.errors import IntegrityError, ValidationError
from govchain.ledger import merkle
from govchain.ledger.canonical import canonical_json

logger = logging.getLogger(__name__)

Row = Sequence[str | None]

#: Age after which a temporary file in the store is taken as left by a writer
#: that was killed.
#: NOTE: an estimate. A write still running after ten minutes would lose its
#: temporary file when another process opens the store, and fail at the rename.
STALE_TEMPORARY_SECONDS = 10 * 60


def rows_root(rows: Sequence[Row]) -> str:
    """Return the hex Merkle root over the canonical JSON of each row."""
    leaves = [merkle.hash_leaf(canonical_json(list(row))) for row in rows]
    return merkle.root_from_leaf_hashes(leaves).hex()


def schema_hash(fields: Sequence[dict[str, Any]]) -> str:
    """Return the hex SHA-256 of the canonical field list (name, type, description)."""
    return hashlib.sha256(canonical_json(list(fields))).hexdigest()


@dataclass(frozen=True)
class Dataset:
    """Rows with their field descriptions."""

    fields: list[dict[str, Any]]
    rows: list[list[str | None]]

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def content_hash(self) -> str:
        return rows_root(self.rows)

    @property
    def schema_hash(self) -> str:
        return schema_hash(self.fields)

    def project(self, names: Sequence[str]) -> Dataset:
        """Return only the fields in `names`, in this dataset's field order."""
        wanted = set(names)
        missing = wanted - set(self.field_names)
        if missing:
            raise ValidationError(
                f"dataset has no field(s) {sorted(missing)}", reason="unknown-field"
            )
        keep = [i for i, f in enumerate(self.fields) if f["name"] in wanted]
        return Dataset(
            fields=[self.fields[i] for i in keep],
            rows=[[row[i] for i in keep] for row in self.rows],
        )


class DatasetStore:
    """Content-addressed files `objects/<aa>/<content hash>.json` under a node home.

    Each file is written to a temporary file of its own in the same folder and
    renamed into place, so a reader sees a whole file or none. Opening the
    store removes temporary files older than `STALE_TEMPORARY_SECONDS`, which
    a writer killed before the rename leaves behind.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        if not self.root.is_dir():
            return
        cutoff = time.time() - STALE_TEMPORARY_SECONDS
        removed = 0
        # Datasets are in `<aa>` folders and blobs in `<kind>` folders.
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.glob("*.tmp"):
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:
                    # Renamed or removed by another process meanwhile.
                    continue
                except OSError as exc:
                    logger.warning(
                        "cannot remove stale temporary file %s: %s", path, exc
                    )
        if removed:
            logger.info(
                "removed %d stale temporary files from %s, left by writes that "
                "did not finish",
                removed,
                self.root,
            )

    def _path(self, content_hash: str) -> Path:
        return self.root / content_hash[:2] / f"{content_hash}.json"

    def put(self, dataset: Dataset) -> str:
        """Store `dataset` and return its content hash; storing twice is a no-op."""
        content_hash = dataset.content_hash
        path = self._path(content_hash)
        if path.exists():
            return content_hash
        # Datasets hold personal data: only the node's user may read them.
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        body = {"fields": dataset.fields, "rows": dataset.rows}
        _write_atomic(path, canonical_json(body))
        logger.debug("stored dataset %s (%d rows)", content_hash, len(dataset.rows))
        return content_hash

    def put_blob(self, kind: str, data: bytes) -> str:
        """Store bytes such as a quality report under `kind`; return their SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        folder = self.root / kind
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"{digest}.json"
        if not path.exists():
            _write_atomic(path, data)
        return digest

    def get(self, content_hash: str) -> Dataset:
        """Load a dataset and check it still hashes to `content_hash`."""
        path = self._path(content_hash)
        try:
            body = json.loads(path.read_bytes())
        except FileNotFoundError as exc:
            raise IntegrityError(
                f"dataset {content_hash} is not in the store at {self.root}"
            ) from exc
        dataset = Dataset(fields=body["fields"], rows=body["rows"])
        if dataset.content_hash != content_hash:
            raise IntegrityError(f"stored dataset {content_hash} was altered on disk")
        return dataset


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a new temporary file readable only by its owner, sync it
    and rename it to `path`.

    The temporary name is unique, so two processes storing the same content
    do not write into one file.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
