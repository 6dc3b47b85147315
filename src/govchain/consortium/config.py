"""Read and check a consortium file (TOML), reporting every problem at once.

docs/consortium.md describes the format for operators. The parser never stops at
the first fault: it walks the whole document, collects one line per problem, each
naming the file, the table or array entry and the field, and raises a single
`ConfigError` with all of them.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Collection, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

from govchain._types import DeptId
from govchain.consortium._model import (
    LEVELS,
    Consortium,
    Department,
    Level,
    NodeConfig,
    Policy,
    Region,
)
from govchain.consortium._policy_config import build_policy
from govchain.consortium._reading import (
    MISSING,
    Report,
    check_fields,
    check_personal_data,
    join,
    personal_data_kind,
    read_integer,
    read_string,
    read_table,
    read_tables,
    show,
)
from govchain.errors import ConfigError

logger = logging.getLogger(__name__)

#: Bounds on the block interval: one millisecond to one hour.
MAX_BLOCK_INTERVAL_MS = 3_600_000

#: Department ids: 2 to 64 characters of a-z, 0-9 and "-", not starting with "-".
DEPT_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
#: Lines: lower-case letters and "-", starting with a letter, at most 64 characters.
LINE = re.compile(r"[a-z][a-z-]{0,63}")
#: A department's name: printable text, short enough for a table or a card.
#: The characters excluded are C0 and C1 controls and the bidirectional
#: embedding, override and isolate marks, which can disguise a name.
DEPARTMENT_NAME = re.compile(
    "[^\\x00-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]{1,200}"
)
_REGION_CODE = re.compile(r"[A-Za-z0-9-]{1,32}")
# tomllib in Python 3.11 puts the position only into the message text.
_TOML_POSITION = re.compile(r"\s*\((at line \d+, column \d+|at end of document)\)$")

_TOP_FIELDS = ("consortium", "regions", "departments", "node", "policy")
_HEADER_FIELDS = (
    "name",
    "origin",
    "operator",
    "block_interval_ms",
    "witness_threshold",
)
_REGION_FIELDS = ("code", "name", "parent")
DEPARTMENT_FIELDS = ("id", "name", "region", "level", "line")
_NODE_FIELDS = ("hosts",)


def load_consortium(path: Path) -> Consortium:
    """Read the consortium file at `path` and return the checked consortium.

    The file must be UTF-8; a leading byte order mark is accepted. Raises
    `ConfigError` when the file cannot be read, is not valid TOML, or breaks any
    rule of the format, listing every problem found.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the consortium file: {exc.strerror}; check the path",
            path=str(path),
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid UTF-8 at byte {exc.start}; save the file as UTF-8",
            path=str(path),
        ) from exc
    return parse_consortium(text, source=str(path))


def parse_consortium(text: str, *, source: str) -> Consortium:
    """Parse consortium TOML `text` and return the checked consortium.

    `source` names the text in error messages, usually its file path. Raises
    `ConfigError` on a TOML syntax error, with its line and column, or listing
    every rule of the format that the document breaks.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc)
        match = _TOML_POSITION.search(reason)
        position = ""
        if match:
            position = match.group(1).removeprefix("at ") + ": "
            reason = reason[: match.start()]
        raise ConfigError(
            f"{source}: {position}invalid TOML: {reason[:1].lower()}{reason[1:]}; "
            "fix the syntax",
            path=source,
        ) from exc
    return build_consortium(document, source=source)


def build_consortium(
    document: Mapping[str, Any], *, source: str, set_aside_departments: bool = False
) -> Consortium:
    """Check a parsed consortium document and build the `Consortium`.

    `document` has the layout of the TOML file, as from `tomllib` or from
    `Consortium.to_dict`. Raises `ConfigError` listing every problem found.
    With `set_aside_departments`, a department entry with problems is not
    reported but listed in `Consortium.invalid_departments`, and still counts as
    declared.
    """
    report = Report(source)
    check_fields(report, "", document, _TOP_FIELDS)

    header = read_table(report, document, "consortium")
    name = origin = None
    if header is not None:
        check_fields(report, "consortium", header, _HEADER_FIELDS)
        name = read_string(report, header, "consortium", "name")
        if name is not None and not check_personal_data(
            report, "consortium.name", name
        ):
            name = None
        origin = _build_origin(report, header)
    regions = _build_regions(report, document)
    invalid: dict[str, str] = {}
    departments, declared = _build_departments(
        report, document, invalid if set_aside_departments else None
    )
    operator = interval = threshold = None
    if header is not None:
        operator, interval, threshold = _build_settings(report, header, declared)
    policy_table = read_table(report, document, "policy")
    policy = None if policy_table is None else build_policy(report, policy_table)
    node = _build_node(report, document, declared)

    if report.problems:
        raise ConfigError("\n".join(report.problems), path=source)
    logger.debug(
        "%s: %d regions, %d departments, %d policy rules",
        source,
        len(regions),
        len(departments),
        len(policy.rules) if policy else 0,
    )
    return Consortium(
        name=cast(str, name),
        origin=cast(str, origin),
        operator=cast(DeptId, operator),
        regions=tuple(regions.values()),
        departments=tuple(departments.values()),
        policy=cast(Policy, policy),
        block_interval_ms=cast(int, interval),
        witness_threshold=cast(int, threshold),
        node=node or NodeConfig(hosts=()),
        invalid_departments=invalid,
    )


def _build_origin(report: Report, header: Mapping[str, Any]) -> str | None:
    origin = read_string(report, header, "consortium", "origin")
    if origin is None:
        return None
    # The origin is the first line of every checkpoint, and witnesses use it as
    # the key name of signed notes, where spaces and "+" are not allowed.
    if (
        not origin.isascii()
        or not origin.isprintable()
        or " " in origin
        or "+" in origin
    ):
        report.add(
            "consortium.origin",
            f"{show(origin)} is invalid; use printable ASCII without spaces or "
            '"+", such as govchain.example/city-4401',
        )
        return None
    return origin


def _build_settings(
    report: Report, header: Mapping[str, Any], declared: set[str]
) -> tuple[str | None, int | None, int | None]:
    """Check the operator, block interval and witness threshold of [consortium]."""
    operator = read_string(report, header, "consortium", "operator")
    if operator is not None and operator not in declared:
        report.add(
            "consortium.operator",
            f"{show(operator)} is not a declared department; "
            "declare it under [[departments]] or fix the id",
        )
        operator = None
    interval = read_integer(
        report,
        header,
        "consortium",
        "block_interval_ms",
        low=1,
        high=MAX_BLOCK_INTERVAL_MS,
        default=200,
    )
    threshold = read_integer(
        report,
        header,
        "consortium",
        "witness_threshold",
        low=1,
        high=max(1, len(declared)),
        default=1,
        hint="number of departments",
    )
    return operator, interval, threshold


def _build_regions(report: Report, document: Mapping[str, Any]) -> dict[str, Region]:
    regions: dict[str, Region] = {}
    first_path: dict[str, str] = {}
    for path, entry in read_tables(report, document, "", "regions"):
        check_fields(report, path, entry, _REGION_FIELDS)
        code = read_string(
            report,
            entry,
            path,
            "code",
            pattern=_REGION_CODE,
            hint='up to 32 letters, digits or "-", such as a GB/T 2260 code',
        )
        name = read_string(report, entry, path, "name")
        if name is not None and not check_personal_data(report, f"{path}.name", name):
            name = None
        parent = read_string(
            report,
            entry,
            path,
            "parent",
            required=False,
            pattern=_REGION_CODE,
            hint="the code of another region",
        )
        if code is not None and code in first_path:
            report.add(
                f"{path}.code",
                f"{show(code)} is already used by {first_path[code]}; "
                "give each region its own code",
            )
        elif code is not None:
            first_path[code] = path
            if name is not None:
                regions[code] = Region(code=code, name=name, parent=parent)
    _check_region_parents(report, document, regions, first_path)
    return regions


def _check_region_parents(
    report: Report,
    document: Mapping[str, Any],
    regions: Mapping[str, Region],
    paths: Mapping[str, str],
) -> None:
    # Parents are checked once every code is known, so order does not matter.
    declared = set(paths)
    for code, region in regions.items():
        if region.parent is None:
            continue
        where = f"{paths[code]}.parent"
        if region.parent not in declared:
            report.add(
                where,
                f"{show(region.parent)} is not a declared region; declare it "
                "under [[regions]] or remove parent",
            )
            continue
        chain = [code]
        parent: str | None = region.parent
        while parent is not None and parent in regions and parent not in chain:
            chain.append(parent)
            parent = regions[parent].parent
        if parent == code:
            cycle = " -> ".join([*chain, code])
            report.add(
                where, f"parents form a cycle {cycle}; remove one of the parents"
            )


def _build_departments(
    report: Report, document: Mapping[str, Any], invalid: dict[str, str] | None
) -> tuple[dict[str, Department], set[str]]:
    """Check the department entries and return them with the declared ids.

    When `invalid` is a dict, an entry with a valid id and other problems is
    recorded there with its problems instead of in `report`.
    """
    departments: dict[str, Department] = {}
    first_path: dict[str, str] = {}
    declared_regions = _declared_codes(document)
    for path, entry in read_tables(report, document, "", "departments"):
        dept_id = entry.get("id")
        if (
            not isinstance(dept_id, str)
            or not DEPT_ID.fullmatch(dept_id)
            or personal_data_kind(dept_id) is not None
        ):
            read_department(report, path, entry, declared_regions)
            continue
        if invalid is None:
            department = read_department(report, path, entry, declared_regions)
        else:
            own = Report(f"{report.source}: department {dept_id!r}")
            department = read_department(own, "", entry, declared_regions)
            if own.problems:
                invalid[dept_id] = "; ".join(own.problems)
        if dept_id in first_path:
            report.add(
                f"{path}.id",
                f"{show(dept_id)} is already used by {first_path[dept_id]}; "
                "give each department its own id",
            )
            continue
        first_path[dept_id] = path
        if department is not None:
            departments[dept_id] = department
    # A department whose other fields are faulty still counts as declared, so that
    # references to it do not add a second, misleading problem.
    return departments, set(first_path)


def read_department(
    report: Report,
    path: str,
    entry: Mapping[str, Any],
    declared_regions: Collection[str],
    *,
    region_hint: str = "declare it under [[regions]] or fix the code",
) -> Department | None:
    """Check one department entry and return it, or None after a problem.

    The consortium file reader and the `consortium.admit` handler share this
    check, so a department admitted later meets the rules of the file.
    `declared_regions` contains the region codes the department may name, and
    `region_hint` is the advice given for another code.
    """
    found = len(report.problems)
    check_fields(report, path, entry, DEPARTMENT_FIELDS)
    # Fields with personal data are reported first and not read further, because
    # the other problems quote the value.
    hidden = {
        key
        for key in DEPARTMENT_FIELDS
        if isinstance(entry.get(key), str)
        and not check_personal_data(report, join(path, key), entry[key])
    }

    def read(key: str, **rule: Any) -> str | None:
        if key in hidden:
            return None
        return read_string(report, entry, path, key, **rule)

    dept_id = read(
        "id",
        pattern=DEPT_ID,
        hint='2 to 64 characters of a-z, 0-9 and "-", not starting with "-"',
    )
    name = read(
        "name",
        pattern=DEPARTMENT_NAME,
        hint="1 to 200 characters without control characters or line breaks",
    )
    region = read("region")
    if region is not None and region not in declared_regions:
        report.add(
            join(path, "region"),
            f"{show(region)} is not a declared region; {region_hint}",
        )
        region = None
    level = read("level")
    if level is not None and level not in LEVELS:
        report.add(
            join(path, "level"),
            f"{show(level)} is not one of {', '.join(LEVELS)}; fix the level",
        )
        level = None
    line = read(
        "line",
        pattern=LINE,
        hint='lower-case letters and "-", such as health or public-security',
    )
    # Each field read as None above added a problem, so the casts below hold.
    if len(report.problems) > found:
        return None
    return Department(
        id=DeptId(cast(str, dept_id)),
        name=cast(str, name),
        region=cast(str, region),
        level=cast(Level, level),
        line=cast(str, line),
    )


def _declared_codes(document: Mapping[str, Any]) -> set[str]:
    entries = document.get("regions")
    if not isinstance(entries, list):
        return set()
    return {
        entry["code"]
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("code"), str)
    }


def _build_node(
    report: Report, document: Mapping[str, Any], declared: set[str]
) -> NodeConfig | None:
    if "node" not in document:
        return None
    table = read_table(report, document, "node")
    if table is None:
        return None
    check_fields(report, "node", table, _NODE_FIELDS)
    hosts = table.get("hosts", MISSING)
    if hosts is MISSING:
        report.add(
            "node.hosts", "missing; list the departments this node holds keys for"
        )
        return None
    if not isinstance(hosts, list) or not hosts:
        report.add(
            "node.hosts",
            f"expected a non-empty array of department ids, got {show(hosts)}",
        )
        return None
    chosen: list[DeptId] = []
    for index, host in enumerate(hosts):
        where = f"node.hosts[{index}]"
        if not isinstance(host, str):
            report.add(where, f"expected a department id, got {show(host)}")
        elif host not in declared:
            report.add(
                where,
                f"{show(host)} is not a declared department; "
                "declare it under [[departments]] or fix the id",
            )
        elif host in chosen:
            report.add(where, f"{show(host)} is listed twice; remove one")
        else:
            chosen.append(DeptId(host))
    return NodeConfig(hosts=tuple(chosen))


def demo_consortium_text() -> str:
    """Return the text of the demo consortium file shipped with govchain."""
    resource = files("govchain").joinpath("data/consortium/demo.toml")
    return resource.read_text(encoding="utf-8")


def load_demo_consortium() -> Consortium:
    """Parse and return the demo consortium: 广州市 and two of its districts."""
    return parse_consortium(demo_consortium_text(), source="demo.toml")
