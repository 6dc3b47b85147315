"""`govchain lineage RESOURCE`: versions and deliveries of a resource as a graph."""

from __future__ import annotations

from typing import Annotated

import typer

from govchain.cli._context import CliState, console, print_json
from govchain.governance.lineage import lineage_graph, render_tree


def lineage(
    ctx: typer.Context,
    resource: Annotated[str, typer.Argument(help="Resource id.")],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the graph as JSON nodes and edges."),
    ] = False,
) -> None:
    """Show how a resource's versions derive from raw imports, and their deliveries."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        graph = lineage_graph(store, resource)
    finally:
        store.close()
    if as_json:
        print_json(graph.to_dict())
    else:
        console.print(render_tree(graph))
