"""The demo's steps: set-up, publishing, sharing scenarios, audit and evidence."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from govchain import audit
from govchain.catalog import service as catalog
from govchain.data import demo_file
from govchain.datasets import Dataset, DatasetStore
from govchain.demo.archive import play_archive
from govchain.demo.certificates import play_certificates
from govchain.demo.governance import play_governance
from govchain.demo.people import synthetic_people
from govchain.errors import PolicyError
from govchain.evidence import export_bundle, read_trust_file, verify_bundle
from govchain.evidence.keys import ledger_keys, trust_file_text
from govchain.ledger.orderer import SoloOrderer
from govchain.ledger.verify import verify_ledger
from govchain.node import Node, NodeHome, init_node
from govchain.sharing import service as sharing
from govchain.tabular import read_table

DAY_MS = 86_400_000

#: Type, sensitivity level and kind of each column of the check-up register;
#: deliveries desensitize each field by its level and kind.
CHECKUP_FIELDS: dict[str, dict[str, object]] = {
    "编号": {"type": "string", "level": 1},
    "姓名": {"type": "string", "level": 3, "kind": "name"},
    "身份证号": {"type": "string", "level": 4, "kind": "id_number"},
    "手机号": {"type": "string", "level": 3, "kind": "phone"},
    "从业类别": {"type": "string", "level": 1},
    "体检日期": {"type": "date", "level": 2},
    "体检结论": {"type": "string", "level": 1},
}


class DemoClock:
    """A simulated clock in unix milliseconds that advances only through `advance`."""

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        self.now += 1000
        return self.now

    def advance(self, days: float) -> None:
        self.now += int(days * DAY_MS)


def _consortium_file() -> Path:
    return Path(str(files("govchain.data").joinpath("consortium", "demo.toml")))


def _dataset(path: Path, *, limit: int | None = None) -> Dataset:
    table = read_table(path)
    rows = [list(r) for r in table.rows[:limit]]
    fields = [{"name": h, "type": "string", "description": ""} for h in table.header]
    return Dataset(fields=fields, rows=rows)


class Scenario:
    """Plays the demo against one node home."""

    def __init__(self, home: NodeHome, clock: DemoClock, console: Console) -> None:
        self.home = home
        self.clock = clock
        self.console = console
        self.node: Node | None = None
        self.outcomes: dict[str, str] = {}

    def close(self) -> None:
        if self.node is not None:
            self.node.close()

    @property
    def n(self) -> Node:
        assert self.node is not None
        return self.node

    def say(self, text: str) -> None:
        self.console.print(text)

    def play(self) -> dict[str, Any]:
        self.console.rule("consortium")
        self.node = init_node(
            self.home,
            _consortium_file(),
            encrypt=True,
            orderer=SoloOrderer(clock=self.clock),
        )
        self.say(f"node home {self.home.path}: genesis block for {self.home.origin}")
        self.say(f"departments hosted: {', '.join(self.home.hosts)}")
        imported = self.import_catalog()
        resources = self.publish()
        self.share(resources)
        self.show_audit(resources["hospitals"])
        evidence = self.evidence()
        play_archive(self.n, self.console)
        self.outcomes["governance"] = play_governance(self.n, self.console)
        self.outcomes["certificates"] = play_certificates(
            self.n, self.console, lambda: self.clock.now // 1000
        )
        report = verify_ledger(self.n.store)
        self.console.rule("verification")
        self.say(
            f"govchain verify: {'OK' if report.ok else 'FAILED'}: {report.blocks} blocks, "
            f"{report.transactions} transactions, {report.checkpoints} checkpoints"
        )
        return {
            "node_home": str(self.home.path),
            "catalog_import": imported,
            "resources": resources,
            "scenarios": self.outcomes,
            "evidence_bundle": evidence,
            "ledger": {
                "blocks": report.blocks,
                "transactions": report.transactions,
                "verified": report.ok,
                "log_root": report.log_root,
            },
        }

    def import_catalog(self) -> dict[str, Any]:
        self.console.rule("catalog chain: Taoyuan open-data catalog")
        report = catalog.import_catalog(
            self.n, demo_file("taoyuan_opendata_supply_list_2018.xls"), region="440100"
        )
        self.say(
            f"{report.source}: {len(report.registered)} resources registered, "
            f"{len(report.refused)} rows refused, {len(report.admitted)} agencies admitted "
            "as departments"
        )
        for row, column, reason in report.refused[:5]:
            self.say(f"  row {row} {column}: {reason}")
        return {
            "registered": len(report.registered),
            "refused": len(report.refused),
            "agencies_admitted": len(report.admitted),
        }

    def publish(self) -> dict[str, str]:
        self.console.rule("publishing real datasets")
        store = DatasetStore(self.home.path / "objects")
        plans = [
            (
                "hospitals",
                "city-health",
                "医疗机构季度指标",
                "conditional",
                2,
                "卫生健康",
                "nhi_hospital_indicators_DataGov25511.big5.csv",
                "Quarterly indicators of contracted medical institutions (Big5 CSV)",
            ),
            (
                "streets",
                "city-civil-affairs",
                "街道名称",
                "unconditional",
                1,
                "地名",
                "psi_street_names_20200630.xlsx",
                "Official street names (XLSX)",
            ),
            (
                "cutoffs",
                "city-bdb",
                "普通一批投档线",
                "unconditional",
                1,
                "教育",
                "shandong_2022_undergrad_batch1_admission_cutoff.xlsx",
                "Admission cut-offs by programme and university (XLSX)",
            ),
        ]
        ids: dict[str, str] = {}
        for (
            key,
            owner,
            title,
            sharing_type,
            level,
            category,
            file,
            description,
        ) in plans:
            dataset = _dataset(demo_file(file))
            resource_id = catalog.register_resource(
                self.n,
                owner,
                title=title,
                description=description,
                fields=dataset.fields,
                level=level,
                sharing=sharing_type,
                category=category,
                update_frequency="quarterly",
                tags=["demo"],
            )
            version = catalog.publish_version(
                self.n,
                store,
                owner,
                resource_id,
                dataset,
                raw_hash=_file_hash(demo_file(file)),
                transformation=f"import {file}",
            )
            ids[key] = resource_id
            self.say(
                f"{owner} published {resource_id} {title}: {len(dataset.rows)} rows as {version}"
            )

        people = synthetic_people(200)
        register = Dataset(
            fields=[
                {**CHECKUP_FIELDS[k], "name": k, "description": ""} for k in people[0]
            ],
            rows=[list(p.values()) for p in people],
        )
        ids["checkups"] = catalog.register_resource(
            self.n,
            "city-health",
            title="从业人员健康体检登记",
            level=4,
            sharing="conditional",
            description="Food-service workers' check-up register (synthetic people)",
            fields=register.fields,
            category="卫生健康",
            update_frequency="daily",
        )
        catalog.publish_version(
            self.n,
            store,
            "city-health",
            ids["checkups"],
            register,
            transformation="generated",
        )
        self.say(
            f"city-health published {ids['checkups']}: {len(register.rows)} synthetic people"
        )
        ids["watchlist"] = catalog.register_resource(
            self.n,
            "city-public-security",
            title="重点管控人员名单",
            level=4,
            sharing="not_shared",
            fields=[{"name": "编号", "type": "string", "description": ""}],
            category="公共安全",
        )
        self.say(f"city-public-security registered {ids['watchlist']} as not shared")
        return ids

    def _deliver(self, consumer: str, resource: str, grant: str | None) -> str:
        store = DatasetStore(self.home.path / "objects")
        try:
            delivery = sharing.deliver(
                self.n, store, consumer, grant_id=grant, resource_id=resource
            )
        except PolicyError as exc:
            return f"refused ({exc.reason})"
        sharing.receive(self.n, delivery.package)
        return f"delivered {len(delivery.package['rows'])} rows, receipt recorded"

    def share(self, ids: dict[str, str]) -> None:
        self.console.rule("sharing scenarios")
        n = self.n
        # Unconditional: granted at once.
        req = sharing.request_access(
            n,
            "city-market",
            ids["streets"],
            fields=["English Name", "Chinese Name"],
            purpose="address checks for business licences",
            term_days=30,
        )
        result = self._deliver("city-market", ids["streets"], req.get("grant"))
        self._record("unconditional", f"{req['status']} at once; {result}")
        street_grant = req["grant"]

        # Conditional: the owner approves within 5 working days.
        fields = ["YEARYY", "HOSPID", "HOSPNAME"]
        req = sharing.request_access(
            n,
            "city-market",
            ids["hospitals"],
            fields=fields,
            purpose="inspection planning",
            term_days=90,
        )
        self.clock.advance(1)
        req = sharing.approve(n, "city-health", req["id"])
        result = self._deliver("city-market", ids["hospitals"], req["grant"])
        self._record("approved", f"owner approved after 1 day; {result}")

        # Level 4: the operator approves, then the owner rejects with a reason.
        req = sharing.request_access(
            n,
            "city-civil-affairs",
            ids["checkups"],
            fields=["姓名", "身份证号", "体检结论"],
            purpose="subsidy eligibility",
            term_days=30,
        )
        sharing.approve(n, "city-bdb", req["id"])
        req = sharing.reject(
            n, "city-health", req["id"], "purpose does not need identity numbers"
        )
        self._record("rejected", f"operator approved, owner rejected: {req['reason']}")

        # Not shared: always refused, and the refusal is on the ledger.
        try:
            sharing.request_access(
                n,
                "city-health",
                ids["watchlist"],
                fields=["编号"],
                purpose="cross-check",
                term_days=7,
            )
            self._record("not_shared", "UNEXPECTEDLY granted")
        except PolicyError as exc:
            self._record("not_shared", f"request refused ({exc.reason}); on the ledger")
        self._record(
            "not_shared_delivery", self._deliver("city-health", ids["watchlist"], None)
        )

        # Expired: a one-day grant used three days later.
        req = sharing.request_access(
            n,
            "tianhe-market",
            ids["cutoffs"],
            fields=["院校代号及名称"],
            purpose="one-off statistics",
            term_days=1,
        )
        self.clock.advance(3)
        self._record(
            "expired",
            f"delivery after the 1-day term: {self._deliver('tianhe-market', ids['cutoffs'], req['grant'])}",
        )

        # Revoked: the owner revokes, then the consumer tries again.
        sharing.revoke(
            n,
            "city-civil-affairs",
            street_grant,
            "licence checks moved to a new system",
        )
        self._record(
            "revoked",
            f"delivery after revocation: {self._deliver('city-market', ids['streets'], street_grant)}",
        )

        # Desensitized: two departments receive the check-up register, each
        # with its own pseudonyms, so their copies cannot be joined.
        wanted = ["编号", "姓名", "身份证号", "体检结论"]
        firsts = []
        for consumer, purpose in (
            ("city-cdc", "infectious disease follow-up"),
            ("tianhe-market", "food-service licence checks"),
        ):
            req = sharing.request_access(
                n,
                consumer,
                ids["checkups"],
                fields=wanted,
                purpose=purpose,
                term_days=90,
            )
            sharing.approve(n, "city-bdb", req["id"])
            req = sharing.approve(n, "city-health", req["id"])
            store = DatasetStore(self.home.path / "objects")
            delivery = sharing.deliver(
                n, store, consumer, grant_id=req["grant"], resource_id=ids["checkups"]
            )
            sharing.receive(n, delivery.package)
            firsts.append(f"{consumer} sees {delivery.package['rows'][0]}")
        self._record("desensitized", "; ".join(firsts))

        # Overdue: no approver acts for eight working days, so it is escalated.
        req = sharing.request_access(
            n,
            "yuexiu-health",
            ids["hospitals"],
            fields=["HOSPID"],
            purpose="district service planning",
            term_days=60,
        )
        self.clock.advance(12)
        escalated = sharing.escalate_overdue(n, self.clock.now)
        self._record(
            "overdue",
            f"{sum(r.applied for r in escalated)} overdue request(s) escalated to the operator",
        )

    def _record(self, name: str, outcome: str) -> None:
        self.outcomes[name] = outcome
        self.say(f"[bold]{name:>20}[/bold]: {outcome}")

    def show_audit(self, resource: str) -> None:
        self.console.rule(f"audit trail of {resource}")
        rows = audit.trail(self.n.store, audit.TrailQuery(resource=resource))
        table = RichTable()
        for column in ("index", "time (UTC)", "type", "department", "status", "reason"):
            table.add_column(column)
        for r in rows:
            table.add_row(
                str(r["index"]),
                r["time"],
                r["type"],
                r["department"],
                r["status"],
                r["reason"],
            )
        self.console.print(table)

    def evidence(self) -> str:
        self.console.rule("evidence bundle, verified offline")
        store = self.n.store
        approval = store.query_txs(limit=1_000_000)
        target = next(t for t in reversed(approval) if t.type == "sharing.approve")
        bundle = export_bundle(store, target.id, ledger_keys(store))
        bundle_path = self.home.path / "evidence-approval.json"
        trust_path = self.home.path / "trust.keys"
        bundle_path.write_text(
            json.dumps(bundle, ensure_ascii=False, indent=2), "utf-8"
        )
        trust_path.write_text(trust_file_text(store), "utf-8")
        result = verify_bundle(
            json.loads(bundle_path.read_text("utf-8")),
            read_trust_file(trust_path),
            min_signatures=2,
        )
        self.say(f"wrote {bundle_path} and {trust_path}")
        self.say(
            f"verified: {result['type']} by {result['department']} ({result['status']}) at "
            f"index {result['leaf_index']} of {result['tree_size']}, checkpoint signed by "
            f"{len(result['checkpoint_signers'])} keys"
        )
        self.say(
            f"check it yourself: govchain evidence verify {bundle_path} --trust {trust_path}"
        )
        return str(bundle_path)


def _file_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
