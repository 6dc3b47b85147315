"""The demo's data governance step: a messy register from import to delivery.

A street office keeps its food-service workers' register by hand in Excel. The
workbook has two title rows, a header merged over two rows, full-width digits,
a lower-case check character, stray spaces, dates typed three ways, a
duplicated person, and one ID number that Excel turned into a number. The
step:

1. registers the register's data standard on the ledger and a catalog resource
   that references it;
2. tries to import the workbook: the ID number stored as a number is reported
   by sheet, row and column (never by value) and nothing is recorded;
3. imports the corrected workbook with its quality report;
4. cleans it with a rule set into a version whose parent is the raw import;
5. classifies and grades the fields, and records a steward's override;
6. delivers the register desensitized to two departments, each with its own
   pseudonyms;
7. prints the lineage from the raw import to the deliveries.

The people are synthetic (`govchain.demo.people`).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from rich.console import Console
from rich.table import Table as RichTable

from govchain.catalog import service as catalog
from govchain.datasets import DatasetStore
from govchain.demo.people import synthetic_people
from govchain.errors import ValidationError
from govchain.governance import service as steward
from govchain.governance.cleaning import parse_rule_set
from govchain.governance.lineage import lineage_graph, render_tree
from govchain.node import Node
from govchain.sharing import service as sharing
from govchain.standards import Standard, build_report, validate_table
from govchain.standards.registry import get_standard, register_document, standard_of
from govchain.tabular import Table

OWNER = "city-health"
RESOURCE = "city-health.worker-register"
#: The flattened header of the workbook: labels merged over two rows join with `/`.
FIELDS = (
    "编号",
    "姓名",
    "身份证号",
    "手机号",
    "体检情况/体检日期",
    "体检情况/体检结论",
)
STANDARD = {
    "name": "worker-register",
    "version": "1",
    "title": "food-service workers' health-check register",
    "fields": [
        {"name": "编号", "type": "string", "constraints": {"required": True}},
        {"name": "姓名", "type": "string", "constraints": {"required": True}},
        {
            "name": "身份证号",
            "type": "string",
            "format": "cn-resident-id",
            "constraints": {"required": True, "unique": True},
        },
        {"name": "手机号", "type": "string", "format": "cn-mobile"},
        {"name": "体检情况/体检日期", "type": "date"},
        {
            "name": "体检情况/体检结论",
            "type": "string",
            "constraints": {"enum": ["合格", "不合格"]},
        },
    ],
}
CLEANING = {
    "name": "worker-register",
    "version": "1",
    "description": "street office registers: spaces, widths, dates, phones, repeats",
    "rules": [
        {"op": "trim"},
        {"op": "half_width"},
        {"op": "iso_date", "fields": ["体检情况/体检日期"]},
        {"op": "phone", "fields": ["手机号"]},
        {"op": "upper_check", "fields": ["身份证号"]},
        {"op": "dedup", "key": ["身份证号"]},
    ],
}
#: Data row (0-based among the people) whose ID number Excel stored as a number.
NUMERIC_ID_ROW = 4


def play_governance(node: Node, console: Console) -> str:
    """Run the step on `node` and return a one-line summary for the outcomes."""
    console.rule("data governance: a messy register, cleaned, graded and shared")
    store = DatasetStore(node.home.path / "objects")
    with tempfile.TemporaryDirectory(prefix="govchain-demo-") as folder:
        messy = Path(folder) / "从业人员体检登记表.xlsx"
        fixed = Path(folder) / "从业人员体检登记表-更正.xlsx"
        people = synthetic_people(8, seed=33)
        write_register(messy, people, numeric_id=True)
        write_register(fixed, people, numeric_id=False)
        _register(node, console)
        try:
            catalog.import_version(node, store, OWNER, RESOURCE, messy)
        except ValidationError as exc:
            console.print(f"import rejected, nothing recorded: {exc}")
        imported = catalog.import_version(
            node, store, OWNER, RESOURCE, fixed, standard=_standard(node)
        )
    assert imported.report is not None
    console.print(
        f"imported {imported.version_id}: {imported.rows} rows, quality score "
        f"{imported.report.score} ({imported.report.errors} errors)"
    )
    cleaned = steward.clean_version(
        node, store, OWNER, RESOURCE, parse_rule_set(CLEANING)
    )
    score = _score(node, store, cleaned.version_id)
    console.print(
        f"cleaned into {cleaned.version_id}: {cleaned.rows_out} of "
        f"{cleaned.rows_in} rows kept, quality score {score}"
    )
    _classify(node, store, console)
    firsts = _deliver(node, store)
    for line in firsts:
        console.print(line)
    console.print(render_tree(lineage_graph(node.store, RESOURCE)))
    level = catalog.get_resource(node.store, RESOURCE)["level"]
    return (
        f"{RESOURCE}: raw {imported.version_id} (score {imported.report.score}) "
        f"-> clean {cleaned.version_id} (score {score}), level {level}, "
        f"delivered to city-cdc and tianhe-market"
    )


def _register(node: Node, console: Console) -> None:
    document = json.dumps(STANDARD, ensure_ascii=False, indent=2).encode()
    record = register_document(
        node, "city-bdb", document, source="worker-register.json"
    )
    console.print(
        f"city-bdb registered standard {record['id']} ({record['sha256'][:12]})"
    )
    catalog.register_resource(
        node,
        OWNER,
        id=RESOURCE,
        title="食品从业人员健康体检登记表",
        description="Register kept by the street offices (synthetic people)",
        fields=[{"name": name, "type": "string", "description": ""} for name in FIELDS],
        level=1,
        sharing="conditional",
        standard=f"{STANDARD['name']}@{STANDARD['version']}",
        category="health",
    )


def _standard(node: Node) -> Standard:
    return standard_of(get_standard(node.store, "worker-register@1"))


def _score(node: Node, store: DatasetStore, version_id: str) -> str:
    """Return the quality score of a stored version against the standard."""
    version, dataset = steward.load_version(node, store, RESOURCE, version_id)
    table = Table(
        source=version["id"],
        sheet=None,
        header=tuple(dataset.field_names),
        rows=[tuple(row) for row in dataset.rows],
        row_numbers=list(range(2, len(dataset.rows) + 2)),
        encoding=None,
        header_row=1,
    )
    return str(build_report(validate_table(table, _standard(node))).score)


def _classify(node: Node, store: DatasetStore, console: Console) -> None:
    version_id, result = steward.classify_version(node, store, OWNER, RESOURCE)
    table = RichTable(title=f"grades of {version_id} ({result.rules})")
    for column in ("field", "category", "level", "evidence"):
        table.add_column(column)
    for grade in result.fields:
        table.add_row(
            grade.field, grade.category, f"L{grade.level}", ", ".join(grade.evidence)
        )
    console.print(table)
    entry = steward.override_grade(
        node,
        OWNER,
        RESOURCE,
        "体检情况/体检结论",
        level=3,
        category="health",
        reason="a failed check-up reveals a worker's health condition",
    )
    console.print(
        f"steward override: 体检情况/体检结论 L1 -> L3 (health); resource level "
        f"L{entry['level']}"
    )


def _deliver(node: Node, store: DatasetStore) -> list[str]:
    wanted = ["编号", "姓名", "身份证号", "体检情况/体检结论"]
    lines = []
    for consumer, purpose in (
        ("city-cdc", "infectious disease follow-up"),
        ("tianhe-market", "food-service licence checks"),
    ):
        request = sharing.request_access(
            node, consumer, RESOURCE, fields=wanted, purpose=purpose, term_days=90
        )
        for step in request["steps"]:
            request = sharing.approve(node, step["approver"], request["id"])
        delivery = sharing.deliver(
            node, store, consumer, grant_id=request["grant"], resource_id=RESOURCE
        )
        sharing.receive(node, delivery.package)
        lines.append(f"{consumer} receives {delivery.package['rows'][0]}")
    return lines


# -- The messy workbook ---------------------------------------------------------


def _cell(reference: str, value: str | float) -> str:
    if isinstance(value, float):
        return f'<c r="{reference}"><v>{value!r}</v></c>'
    return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def _messy_rows(
    people: list[dict[str, str]], *, numeric_id: bool
) -> list[list[str | float]]:
    """Return the register's rows as a clerk typed them, with the usual slips."""
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    rows: list[list[str | float]] = []
    for index, person in enumerate(people):
        id_number: str | float = person["身份证号"]
        phone = person["手机号"]
        day = person["体检日期"]
        name = person["姓名"]
        if index == 1:
            phone = phone.translate(full_width)
        if index == 2:
            day = day.replace("-", "/")
        if person["身份证号"].endswith("X"):
            id_number = person["身份证号"][:17] + "x"
        if index == 3:
            name = f" {name} "
            phone = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
            year, month, date = day.split("-")
            day = f"{year}年{int(month)}月{int(date)}日"
        if index == NUMERIC_ID_ROW and numeric_id:
            id_number = float(person["身份证号"][:17] + "0")
        result = "合格" if person["体检结论"] == "合格" else "不合格"
        rows.append([person["编号"], name, id_number, phone, day, result])
    # The same person entered twice, as happens when two clerks share a file.
    rows.append(list(rows[0]))
    return rows


def write_register(
    path: Path, people: list[dict[str, str]], *, numeric_id: bool
) -> None:
    """Write the street office's workbook: titles, a two-row header, slips."""
    letters = "ABCDEF"
    lines: list[list[str | float]] = [
        ["2026年食品从业人员健康体检登记表"],
        ["填报单位：天河区某街道办事处　　单位：人"],
        ["编号", "姓名", "身份证号", "手机号", "体检情况", ""],
        ["", "", "", "", "体检日期", "体检结论"],
        *_messy_rows(people, numeric_id=numeric_id),
    ]
    xml_rows = []
    for number, values in enumerate(lines, start=1):
        cells = "".join(
            _cell(f"{letters[i]}{number}", value)
            for i, value in enumerate(values)
            if value != ""
        )
        xml_rows.append(f'<row r="{number}">{cells}</row>')
    merges = ["A1:F1", "A2:F2", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:F3"]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(xml_rows)}</sheetData>"
        f'<mergeCells count="{len(merges)}">'
        + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
        + "</mergeCells></worksheet>"
    )
    _write_workbook(path, sheet)


def _write_workbook(path: Path, sheet: str) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/package/2006/relationships"
    document = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{relationships}"><Relationship Id="rId1" '
            f'Type="{document}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{document}"><sheets>'
            '<sheet name="登记表" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{relationships}"><Relationship Id="rId1" '
            f'Type="{document}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
