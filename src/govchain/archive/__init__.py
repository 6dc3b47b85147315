"""The digital archive: replicated, content-addressed files anchored on the ledger.

Files are ingested with archival metadata (`metadata`), stored in every
configured replica (`store`, `config`), and anchored in batches: one ledger
transaction records the Merkle root over a batch's items (`anchoring`). Any item
is then proved with its file, its proof and a checkpoint, or exported as a
BagIt bag (`bagit`) that verifies offline. Fixity audits find and repair
damaged copies (`audit`); retention and disposal are in `retention`. The
format details are in docs/archive.md.
"""

from govchain.archive.anchoring import Leaf, verify_item_proof
from govchain.archive.audit import AuditReport
from govchain.archive.config import ArchiveConfig, Replica, load_config
from govchain.archive.ingest import IngestReport
from govchain.archive.metadata import Metadata, parse_metadata, read_metadata_file
from govchain.archive.retention import appraisal, dispose
from govchain.archive.service import Archive, SearchQuery
from govchain.archive.store import ReplicaError

__all__ = [
    "Archive",
    "ArchiveConfig",
    "AuditReport",
    "IngestReport",
    "Leaf",
    "Metadata",
    "Replica",
    "ReplicaError",
    "SearchQuery",
    "appraisal",
    "dispose",
    "load_config",
    "parse_metadata",
    "read_metadata_file",
    "verify_item_proof",
]
