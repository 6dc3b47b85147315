"""Catalog routes: register, update, retire, publish, search and show resources."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from govchain.api._context import Caller, Ctx, ReadStore, Writer
from govchain.api._models import (
    ResourceRegistration,
    ResourceUpdate,
    VersionPublication,
)
from govchain.catalog import service
from govchain.datasets import Dataset

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


@router.post("/resources", status_code=201)
def register(
    body: ResourceRegistration, caller: Caller, writer: Writer
) -> dict[str, Any]:
    """Register a data resource owned by the caller's department."""
    fields = body.model_dump(exclude_none=True)
    resource_id = service.register_resource(writer.node, caller, **fields)
    return {"id": resource_id, "receipt": writer.last_receipt()}


@router.patch("/resources/{resource_id}")
def update(
    resource_id: str, body: ResourceUpdate, caller: Caller, writer: Writer, ctx: Ctx
) -> dict[str, Any]:
    """Change catalog fields of a resource the caller owns."""
    changes = body.model_dump(exclude_none=True)
    receipt = service.update_resource(writer.node, caller, resource_id, **changes)
    record = ctx.read(lambda store: service.get_resource(store, resource_id))
    return {"resource": record, "receipt": receipt.to_dict()}


@router.post("/resources/{resource_id}/retire")
def retire(
    resource_id: str, caller: Caller, writer: Writer, ctx: Ctx
) -> dict[str, Any]:
    """Retire a resource the caller owns: it leaves searches and takes no requests."""
    receipt = service.retire_resource(writer.node, caller, resource_id)
    record = ctx.read(lambda store: service.get_resource(store, resource_id))
    return {"resource": record, "receipt": receipt.to_dict()}


@router.post("/resources/{resource_id}/versions", status_code=201)
def publish(
    resource_id: str,
    body: VersionPublication,
    caller: Caller,
    writer: Writer,
    ctx: Ctx,
) -> dict[str, Any]:
    """Publish a new version of a resource from rows given as JSON.

    The rows are stored with this node (the owner's side); the ledger records
    their content hash, schema hash and row count.
    """
    dataset = Dataset(
        fields=[f.model_dump(exclude_none=True) for f in body.fields],
        rows=[list(row) for row in body.rows],
    )
    version = service.publish_version(
        writer.node,
        ctx.datasets,
        caller,
        resource_id,
        dataset,
        raw_hash=body.raw_hash,
        parents=body.parents,
        transformation=body.transformation,
    )
    return {
        "version": version,
        "content_hash": dataset.content_hash,
        "row_count": len(dataset.rows),
        "receipt": writer.last_receipt(),
    }


@router.get("/resources")
def search(
    store: ReadStore,
    caller: Caller,
    keyword: Annotated[
        str, Query(description="Words in title, description, tags or fields.")
    ] = "",
    department: Annotated[str | None, Query(description="Owner department.")] = None,
    category: str | None = None,
    sharing: Annotated[
        str | None, Query(description="unconditional, conditional or not_shared.")
    ] = None,
    level: Annotated[int | None, Query(description="Sensitivity level.")] = None,
    include_retired: bool = False,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> dict[str, Any]:
    """Search the catalog; every filter given must match."""
    query = service.SearchQuery(
        keyword=keyword,
        department=department,
        category=category,
        sharing=sharing,
        level=level,
        include_retired=include_retired,
    )
    service.check_query(store, query)
    found = service.search(store, query, limit=limit)
    return {"count": len(found), "resources": found}


@router.get("/resources/{resource_id}")
def show(resource_id: str, store: ReadStore, caller: Caller) -> dict[str, Any]:
    """Show a resource with the list of its versions."""
    record = service.get_resource(store, resource_id)
    return {**record, "version_list": service.versions(store, resource_id)}
