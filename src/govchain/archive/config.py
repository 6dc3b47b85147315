"""Archive settings of a node home: replica locations, batch size, department.

The settings live in `HOME/archive.toml`; every key is optional:

```toml
department = "city-civil-affairs"   # hosted department that signs anchors
batch_size = 10000                  # items per anchor transaction
pack_threshold = 1048576            # files below this many bytes go into packs

[[replicas]]
name = "primary"
path = "/srv/archive/a"             # relative paths are under the node home

[[replicas]]
name = "offsite"
path = "/mnt/nas/archive"
```

Without replicas the archive keeps two under `HOME/archive/replicas/`. Every
item is written to every listed replica, so the number of copies is the
number of replicas.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.errors import ConfigError
from govchain.node import NodeHome

CONFIG_NAME = "archive.toml"
DEFAULT_BATCH_SIZE = 10_000
DEFAULT_PACK_THRESHOLD = 1 << 20
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Replica:
    """One replica location: a directory with a full copy of the archive."""

    name: str
    path: Path


@dataclass(frozen=True)
class ArchiveConfig:
    """The archive settings of one node home: replicas, index, department."""

    root: Path
    replicas: tuple[Replica, ...]
    department: str
    batch_size: int = DEFAULT_BATCH_SIZE
    pack_threshold: int = DEFAULT_PACK_THRESHOLD

    @property
    def index_path(self) -> Path:
        return self.root / "index.sqlite"

    @property
    def audits_dir(self) -> Path:
        return self.root / "audits"


def load_config(home: NodeHome) -> ArchiveConfig:
    """Read `HOME/archive.toml`, falling back to defaults for missing keys.

    Raises `ConfigError` naming the file and key when a value is unusable.
    """
    path = home.path / CONFIG_NAME
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(
                f"archive settings {path} are unreadable: {exc}", path=str(path)
            ) from exc
    root = home.path / "archive"
    hosts = home.hosts
    department = data.get("department", hosts[0] if hosts else "")
    if not isinstance(department, str) or department not in hosts:
        raise ConfigError(
            f"{path}: department {department!r} is not hosted on this node; set "
            f"department to one of {', '.join(hosts)}",
            path=str(path),
        )
    return ArchiveConfig(
        root=root,
        replicas=_replicas(data.get("replicas"), home.path, path),
        department=department,
        batch_size=_positive(data, "batch_size", DEFAULT_BATCH_SIZE, path),
        pack_threshold=_positive(data, "pack_threshold", DEFAULT_PACK_THRESHOLD, path),
    )


def _positive(data: dict[str, Any], key: str, default: int, path: Path) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"{path}: {key} must be a positive integer, got {value!r}", path=str(path)
        )
    return value


def _replicas(value: Any, home: Path, path: Path) -> tuple[Replica, ...]:
    if value is None:
        base = home / "archive" / "replicas"
        return (Replica("r1", base / "r1"), Replica("r2", base / "r2"))
    if not isinstance(value, list) or not value:
        raise ConfigError(
            f"{path}: replicas must be a non-empty list of [[replicas]] tables",
            path=str(path),
        )
    replicas: list[Replica] = []
    for number, entry in enumerate(value, start=1):
        where = f"{path}: replicas entry {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} is not a table", path=str(path))
        name, location = entry.get("name"), entry.get("path")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ConfigError(
                f"{where}: name must be 1 to 64 letters, digits, '.', '_' or '-'",
                path=str(path),
            )
        if not isinstance(location, str) or not location:
            raise ConfigError(f"{where}: path is missing", path=str(path))
        resolved = Path(location) if Path(location).is_absolute() else home / location
        replicas.append(Replica(name, resolved))
    names = [r.name for r in replicas]
    paths = [r.path.resolve() for r in replicas]
    if len(set(names)) != len(names) or len(set(paths)) != len(paths):
        raise ConfigError(
            f"{path}: two replicas share a name or a path; each copy needs its own",
            path=str(path),
        )
    return tuple(replicas)
