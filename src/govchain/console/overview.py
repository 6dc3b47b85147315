"""Overview page (数据概况): the state of the catalog, sharing and the ledger."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from govchain.audit import format_time
from govchain.catalog._handlers import RESOURCE_NS
from govchain.console._auth import Viewer
from govchain.console._cache import LedgerCache
from govchain.console._web import (
    Page,
    console_router,
    console_state,
    render,
    translator,
)
from govchain.console.charts import bar_chart, column_chart
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.store import LedgerStore
from govchain.sharing._handlers import REQUEST_NS

router = console_router("/overview")
page = Page(
    area="overview",
    router=router,
    label="overview.nav",
    path="/console/overview",
    roles=frozenset({"operator", "steward", "officer", "auditor"}),
    order=10,
)

DAY_MS = 86_400_000
#: Weeks shown in the chart of requests over time.
WEEKS = 12
RECENT_TXS = 12


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: Viewer) -> HTMLResponse:
    state = console_state(request)
    cache = state.caches.get("overview")
    if cache is None:
        cache = state.caches.setdefault(
            "overview",
            LedgerCache("overview", lambda store: _figures(store, state.api.clock())),
        )
    snapshot = cache.get(state.api)
    figures = snapshot.value
    t = translator(request)
    empty = t("app.chart_empty")
    charts = {
        "department": bar_chart(
            t("overview.by_department"), figures["by_department"], empty=empty
        ),
        "category": bar_chart(
            t("overview.by_category"), figures["by_category"], empty=empty
        ),
        "level": bar_chart(
            t("overview.by_level"),
            [(t(f"level.{k}"), v) for k, v in figures["by_level"]],
            empty=empty,
        ),
        "sharing": bar_chart(
            t("overview.by_sharing"),
            [(t(f"sharing.{k}"), v) for k, v in figures["by_sharing"]],
            empty=empty,
        ),
        "weeks": column_chart(
            t("overview.requests_over_time"), figures["by_week"], empty=empty
        ),
        "status": bar_chart(
            t("overview.requests_by_status"),
            [(t(f"status.{k}"), v) for k, v in figures["by_status"]],
            empty=empty,
        ),
        "quality": bar_chart(
            t("overview.quality_by_department"),
            figures["quality_by_department"],
            empty=empty,
        ),
    }
    return render(
        request,
        "overview/index.html",
        title_key="overview.title",
        charts=charts,
        as_of=format_time(int(snapshot.computed_at * 1000)),
        as_of_size=snapshot.log_size,
        **figures,
    )


def _figures(store: LedgerStore, now: int) -> dict[str, Any]:
    names = {dept: str(record["name"]) for dept, record in store.scan(DEPT_NS)}
    resources = [r for _k, r in store.scan(RESOURCE_NS) if r["status"] == "active"]
    requests = [r for _k, r in store.scan(REQUEST_NS)]
    return {
        "resource_count": len(resources),
        "request_count": len(requests),
        "department_count": len(names),
        "by_department": _top(
            Counter(str(names.get(r["owner"], r["owner"])) for r in resources)
        ),
        "by_category": _top(Counter(r["category"] or "-" for r in resources)),
        "by_level": sorted(Counter(r["level"] for r in resources).items()),
        "by_sharing": sorted(Counter(r["sharing"] for r in resources).items()),
        "by_week": _weeks(requests, now),
        "by_status": sorted(Counter(r["status"] for r in requests).items()),
        "pending": _pending(requests, now, names),
        "quality": _quality(store, resources),
        "quality_by_department": _quality_by_department(store, resources, names),
        "recent": _recent(store),
    }


def _top(counts: Counter[str], limit: int = 10) -> list[tuple[str, float]]:
    return [(name, float(count)) for name, count in counts.most_common(limit)]


def _weeks(requests: list[dict[str, Any]], now: int) -> list[tuple[str, float]]:
    """Count requests per week, for the last `WEEKS` weeks ending now."""
    start = now - WEEKS * 7 * DAY_MS
    counts = [0] * WEEKS
    for req in requests:
        created = int(req["created"])
        if start <= created <= now:
            counts[min(WEEKS - 1, (created - start) // (7 * DAY_MS))] += 1
    labels = [
        dt.datetime.fromtimestamp((start + i * 7 * DAY_MS) / 1000, tz=dt.UTC).strftime(
            "%m-%d"
        )
        for i in range(WEEKS)
    ]
    return [(label, float(count)) for label, count in zip(labels, counts, strict=True)]


def _pending(
    requests: list[dict[str, Any]], now: int, names: dict[str, str]
) -> list[dict[str, Any]]:
    """List pending requests with the days their current step has waited."""
    pending = []
    for req in requests:
        if req["status"] != "pending":
            continue
        step = req["steps"][req["step"]]
        since = req["created"]
        if req["step"] > 0:
            since = req["steps"][req["step"] - 1].get("decided") or since
        pending.append(
            {
                "id": req["id"],
                "resource": req["resource"],
                "consumer": names.get(req["consumer"], req["consumer"]),
                "approver": step["approver"],
                "waited_days": round((now - int(since)) / DAY_MS, 1),
                "overdue": now > int(step["due"]),
                "due": format_time(int(step["due"])),
            }
        )
    return sorted(pending, key=lambda p: -p["waited_days"])


def _latest_versions(
    store: LedgerStore, resources: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for resource in resources:
        version_id = resource.get("latest_version")
        version = store.get("version", version_id) if version_id else None
        if version is not None and version.get("quality_score"):
            out.append((resource, version))
    return out


def _quality(
    store: LedgerStore, resources: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """List the latest scored version of each resource, lowest score first."""
    scored = [
        {
            "resource": resource["id"],
            "title": resource["title"],
            "version": version["id"],
            "score": float(version["quality_score"]),
        }
        for resource, version in _latest_versions(store, resources)
    ]
    return sorted(scored, key=lambda s: s["score"])[:10]


def _quality_by_department(
    store: LedgerStore, resources: list[dict[str, Any]], names: dict[str, str]
) -> list[tuple[str, float]]:
    scores: dict[str, list[float]] = {}
    for resource, version in _latest_versions(store, resources):
        name = names.get(resource["owner"], resource["owner"])
        scores.setdefault(name, []).append(float(version["quality_score"]))
    return [
        (name, round(sum(values) / len(values), 1))
        for name, values in sorted(scores.items())
    ]


def _recent(store: LedgerStore) -> list[dict[str, Any]]:
    size = store.log_size()
    recent = []
    for seq in range(size - 1, max(-1, size - 1 - RECENT_TXS), -1):
        tx = store.tx_by_seq(seq)
        if tx is not None:
            recent.append(
                {
                    "tx_id": tx.id,
                    "type": tx.type,
                    "department": tx.dept,
                    "status": tx.status,
                    "reason": tx.reason,
                    "time": format_time(tx.time),
                    "height": tx.height,
                }
            )
    return recent
