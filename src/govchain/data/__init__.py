"""Data files shipped inside the govchain package.

`demo/` contains real government open-data tables (Taiwan, Hong Kong, mainland China)
that the demo and the tests read. `demo/SOURCES.md` gives each file's origin,
licence and checksum.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from govchain.errors import ConfigError

__all__ = ["demo_file", "demo_files"]


def _demo_dir() -> Path:
    # The package is installed as plain files (a wheel or an editable install), so
    # the resource root is a real directory.
    return Path(str(files(__name__).joinpath("demo")))


def demo_files() -> list[str]:
    """Return the sorted names of the demo data files, without `SOURCES.md`."""
    return sorted(
        path.name
        for path in _demo_dir().iterdir()
        if path.is_file() and path.name != "SOURCES.md"
    )


def demo_file(name: str) -> Path:
    """Return the path of the shipped demo data file called `name`.

    Raises `ConfigError` when no such file ships, listing the names that do.
    """
    available = demo_files()
    if name not in available:
        raise ConfigError(
            f"demo data file {name!r} not found, use one of: {', '.join(available)}"
        )
    return _demo_dir() / name
