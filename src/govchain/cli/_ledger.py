"""`govchain compare`: find where two ledgers or header exports part ways."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from govchain.cli._context import print_raw
from govchain.errors import ConfigError
from govchain.ledger.forks import (
    ChainReport,
    check_chain,
    compare_chains,
    compare_ledgers,
    format_fork_report,
    ledger_chain,
    read_header_export,
)


def _chain(path: Path) -> ChainReport | Path:
    """Read a `.jsonl` header export, or return the ledger file of a node home."""
    if path.suffix == ".jsonl":
        return check_chain(read_header_export(path), str(path))
    ledger = path / "ledger.sqlite" if path.is_dir() else path
    if not ledger.is_file():
        raise ConfigError(
            f"{path} is not a node home, a ledger.sqlite file or a .jsonl header "
            f"export: {ledger} does not exist; pass one of those"
        )
    return ledger


def compare(
    first: Annotated[
        Path, typer.Argument(help="Node home, ledger.sqlite or .jsonl header export.")
    ],
    second: Annotated[Path, typer.Argument(help="The other ledger to compare with.")],
) -> None:
    """Compare two ledgers block by block and report a fork, a gap or agreement.

    Exits 0 when the chains agree on every height they share and both verify,
    1 otherwise. Neither side is changed.
    """
    a, b = _chain(first), _chain(second)
    if isinstance(a, Path) and isinstance(b, Path):
        report = compare_ledgers(a, b)
    else:
        report = compare_chains(
            a if isinstance(a, ChainReport) else ledger_chain(a),
            b if isinstance(b, ChainReport) else ledger_chain(b),
        )
    print_raw(format_fork_report(report))
    if report.forked or not report.a.ok or not report.b.ok:
        raise typer.Exit(1)
