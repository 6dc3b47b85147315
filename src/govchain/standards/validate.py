"""Validate a table against a standard, one Polars expression per field and rule.

`validate_table` turns a `Table` into a Polars frame of text columns and runs
every check as a column expression, so the work per row happens inside Polars
and not in a Python loop. It returns a `Validation` whose findings name the
physical row (from `Table.row_numbers`), the column, the rule and the severity.
Messages describe the value ("the ID number in row 12, column 身份证号 ...")
and never contain it, because cells hold personal data.

Rules, in the order findings of one row are listed:

- `missing-column` (error): a field of the standard is not in the header;
- `extra-column` (warning): a column of the table is not in the standard;
- `duplicate-row` (error): the row repeats an earlier row cell for cell;
- `primaryKey` (error): the row repeats an earlier row's primary key;
- `required` (error): a required or primary key cell is missing;
- `type`, `format`, `pattern`, `enum`, `minLength`, `maxLength`, `minimum`,
  `maximum`, `unique` (errors): the Table Schema rule of the same name.

A cell is missing when it is empty or equals one of the standard's
`missingValues`. Only `required` applies to a missing cell.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import Literal, TypeAlias

import polars as pl

from govchain.governance.personal_data import mask_personal_data
from govchain.standards import formats
from govchain.standards.schema import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    INTEGER_PATTERN,
    NUMBER_PATTERN,
    TEXT_TYPES,
    YEAR_PATTERN,
    Field,
    Standard,
)
from govchain.tabular import ImportNote, Table
from govchain.tabular._header_check import check_header_names
from govchain.tabular._table import FrameRows

logger = logging.getLogger(__name__)

Severity: TypeAlias = Literal["error", "warning"]

RULES = (
    "missing-column",
    "extra-column",
    "duplicate-row",
    "primaryKey",
    "required",
    "type",
    "format",
    "pattern",
    "enum",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "unique",
)
_RULE_RANK = {rule: rank for rank, rule in enumerate(RULES)}

_TYPE_PHRASES = {
    "integer": "is not an integer",
    "year": "is not a year (four digits)",
    "number": "is not a number",
    "boolean": "is not a boolean",
    "date": "is not an ISO 8601 date (YYYY-MM-DD)",
    "datetime": "is not an ISO 8601 date and time (YYYY-MM-DDTHH:MM:SS)",
}
_DTYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "any": pl.String(),
    "integer": pl.Int64(),
    "year": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
}
#: Columns of `Validation.frame`, the findings as a Polars frame.
FINDING_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "column": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
    "position": pl.Int64(),
    "rank": pl.Int64(),
}
_ROW = "row"
_CORES = (
    len(os.sched_getaffinity(0))
    if hasattr(os, "sched_getaffinity")
    else (os.cpu_count() or 1)
)


@dataclass(frozen=True)
class Finding:
    """One broken rule: where it is, which rule, and a message without the value."""

    row: int
    """Physical row; the header row for `missing-column` and `extra-column`."""
    column: str | None
    """Column name, the key's columns joined by ", " for `primaryKey`, or `None`
    for `duplicate-row`."""
    rule: str
    severity: Severity
    message: str
    code: str | None = None
    """Reason code of a `format` finding, such as the one a checksum failure has."""


@dataclass(frozen=True)
class FieldSummary:
    """Counts for one field of the standard."""

    name: str
    present: bool
    """Whether the table has a column of this name."""
    missing: int
    """Missing cells, whether the field is required or not."""
    error_cells: int
    """Cells of the field with at least one error, counting every cell of a
    duplicate row and every key cell of a duplicate primary key."""


@dataclass(frozen=True)
class Validation:
    """The outcome of `validate_table`."""

    source: str
    sheet: str | None
    standard: Standard
    row_count: int
    header_row: int
    frame: pl.DataFrame
    """Findings sorted by row, column position and rule, as `FINDING_SCHEMA`."""
    fields: tuple[FieldSummary, ...]
    error_rows: int
    """Rows with at least one error."""
    notes: tuple[ImportNote, ...] = ()
    """The reader's notes: hidden sheets and rows, formulas without a value,
    removed guards. docs/import.md lists every kind."""

    @property
    def valid(self) -> bool:
        """Whether no finding is an error; warnings do not make a table invalid."""
        return self.error_count == 0

    @property
    def error_count(self) -> int:
        return int(self.frame.filter(pl.col("severity") == "error").height)

    @property
    def warning_count(self) -> int:
        return int(self.frame.filter(pl.col("severity") == "warning").height)

    @property
    def error_cells(self) -> int:
        return sum(f.error_cells for f in self.fields)

    def findings(self) -> Iterator[Finding]:
        """Yield the findings in order, as `Finding` values."""
        columns = self.frame.select(
            "row", "column", "rule", "severity", "message", "code"
        )
        for row, column, rule, severity, message, code in columns.iter_rows():
            yield Finding(row, column, rule, severity, message, code)


def validate_table(
    table: Table, standard: Standard, *, today: date | None = None
) -> Validation:
    """Check every cell of `table` against the fields and rules of `standard`.

    Columns are matched to fields by name. `today` is the date after which a
    birth date in an ID number is in the future, by default the current date.
    Raises `ValidationError` when the header has none of the standard's fields
    and holds values, because it is then a data row.
    """
    check_header_names(table, standard.field_names)
    frame = _text_frame(table)
    positions = {name: i for i, name in enumerate(table.header)}
    present = [f for f in standard.fields if f.name in positions]
    checker = _Checker(standard, positions, formats.FormatOptions(today=today))
    frame = checker.add_values(frame, present)
    frame = checker.add_masks(frame, present, width=len(table.header))
    findings = checker.collect_findings(frame, table)
    summaries, error_rows = checker.count(frame, present, table)
    logger.debug(
        "%s: %d rows checked against %d fields, %d findings",
        table.source,
        frame.height,
        len(standard.fields),
        findings.height,
    )
    return Validation(
        source=table.source,
        sheet=table.sheet,
        standard=standard,
        row_count=len(table.rows),
        header_row=table.header_row,
        frame=findings,
        fields=summaries,
        error_rows=error_rows,
        notes=table.notes,
    )


def _text_frame(table: Table) -> pl.DataFrame:
    """Build a frame with the row numbers and one text column `c<i>` per column.

    Positional names keep the table's own column names, which can be anything,
    apart from the names of the helper columns.
    """
    if isinstance(table.rows, FrameRows):
        frame = table.rows.frame
        names = {old: f"c{i}" for i, old in enumerate(frame.columns)}
        numbers = pl.Series(_ROW, table.row_numbers, dtype=pl.Int64)
        return frame.rename(names).insert_column(0, numbers)
    width = len(table.header)
    # One Series over every cell, cut into columns with a stride, is built
    # about twice as fast as one Python list per column.
    cells = pl.Series("cells", list(chain.from_iterable(table.rows)), dtype=pl.String)
    if cells.len() != width * len(table.rows):
        raise ValueError(
            f"{table.source}: the rows of the table are not all {width} cells wide"
        )
    data: dict[str, pl.Series] = {
        _ROW: pl.Series(_ROW, table.row_numbers, dtype=pl.Int64),
    }
    for i in range(width):
        data[f"c{i}"] = cells.gather_every(width, offset=i).alias(f"c{i}")
    return pl.DataFrame(data)


@dataclass(frozen=True)
class _Rule:
    """One check on one field, evaluated into the boolean column `mask`."""

    mask: str
    rule: str
    field: Field | None
    position: int
    column: str | None
    message: pl.Expr
    code: pl.Expr
    first_of: Sequence[str] = ()
    """Columns whose equal values make a row repeat an earlier one."""
    key_fields: Sequence[str] = ()
    """Fields whose cells count as erroneous; every field when `field` is None."""


class _Checker:
    def __init__(
        self,
        standard: Standard,
        positions: dict[str, int],
        options: formats.FormatOptions,
    ) -> None:
        self.standard = standard
        self.positions = positions
        self.options = options
        self.rules: list[_Rule] = []
        self.masks: list[pl.Expr] = []
        self.repeats: dict[str, list[str]] = {}
        """Columns to add, each the first row with the same values in a list of
        columns, keyed by the name of the column to add."""
        self.indexes = {f.name: i for i, f in enumerate(standard.fields)}

    # Step 1: the text of each present cell (null when missing), whether it is
    # missing, and its value parsed to the field's type.

    def add_values(self, frame: pl.DataFrame, present: Sequence[Field]) -> pl.DataFrame:
        missing_values = list(self.standard.missing_values)
        texts = []
        for f in present:
            raw = pl.col(f"c{self.positions[f.name]}")
            missing = raw.is_null() | raw.is_in(missing_values)
            texts.append(missing.alias(f"m{self._index(f)}"))
            texts.append(pl.when(~missing).then(raw).alias(f"t{self._index(f)}"))
        frame = frame.with_columns(texts)
        frame = frame.with_columns(
            _parse(pl.col(f"t{self._index(f)}"), f).alias(f"v{self._index(f)}")
            for f in present
        )
        checked = [f for f in present if f.format != "default"]
        # Polars releases the GIL while it computes, so the format checks of
        # several columns run side by side on separate cores.
        with ThreadPoolExecutor(max_workers=max(1, min(len(checked), _CORES))) as pool:
            results = list(pool.map(lambda f: self._check_format(frame, f), checked))
        return frame.with_columns(results) if results else frame

    def _check_format(self, frame: pl.DataFrame, f: Field) -> pl.Series:
        fmt = formats.get_format(f.format)
        result = fmt.check(frame.get_column(f"t{self._index(f)}"), self.options)
        if result.len() != frame.height:
            raise ValueError(
                f"the check of format {f.format} returned {result.len()} "
                f"values for {frame.height} cells"
            )
        return result.cast(pl.String).alias(f"f{self._index(f)}")

    # Step 2: one boolean column per field and rule, true where the rule fails.

    def add_masks(
        self, frame: pl.DataFrame, present: Sequence[Field], *, width: int
    ) -> pl.DataFrame:
        row_columns = [f"c{i}" for i in range(width)]
        if row_columns:
            self._add(
                "duplicate-row",
                None,
                pl.lit(True),
                "",
                " repeats row {first} exactly",
                first_of=row_columns,
            )
        self._add_primary_key()
        for f in present:
            self._add_cell_rules(f)
            self._add_text_rules(f)
            self._add_value_rules(f)
        if not self.masks:
            return frame
        # NOTE: eager `with_columns` here, because the same two steps as one
        # lazy query ran about 5 times slower with Polars 2.1.
        single = {n: c for n, c in self.repeats.items() if len(c) == 1}
        if single:
            frame = frame.with_columns(
                pl.col(_ROW).first().over(columns).alias(name)
                for name, columns in single.items()
            )
        for name, columns in self.repeats.items():
            if name not in single:
                frame = frame.with_columns(_first_rows(frame, columns).alias(name))
        return frame.with_columns(self.masks)

    def _add_primary_key(self) -> None:
        keys = self.standard.primary_key
        if not keys or any(k not in self.positions for k in keys):
            return
        values = [f"v{self._index(self.standard.field(k))}" for k in keys]
        all_present = pl.all_horizontal(pl.col(v).is_not_null() for v in values)
        self._add(
            "primaryKey",
            None,
            all_present,
            f"the primary key ({', '.join(keys)}) in ",
            " repeats the key of row {first}",
            column=", ".join(keys),
            first_of=values,
            key_fields=keys,
        )

    def _add_cell_rules(self, f: Field) -> None:
        """Register `required`, `type` and `format`."""
        i = self._index(f)
        text, value, missing = pl.col(f"t{i}"), pl.col(f"v{i}"), pl.col(f"m{i}")
        if f.constraints.required or f.name in self.standard.primary_key:
            self._add("required", f, missing, "the required value in ", " is missing")
        if f.type not in TEXT_TYPES:
            self._add(
                "type",
                f,
                text.is_not_null() & value.is_null(),
                "the value in ",
                f" {_TYPE_PHRASES[f.type]}",
                tail=_date_tail(text, f.name) if f.type == "date" else None,
            )
        if f.format != "default":
            fmt = formats.get_format(f.format)
            code = pl.col(f"f{i}")
            phrase = code.replace_strict(
                dict(fmt.phrases),
                default=pl.concat_str(
                    pl.lit("is not valid (reason "), code, pl.lit(")")
                ),
                return_dtype=pl.String,
            )
            self._add(
                "format",
                f,
                code.is_not_null(),
                f"{fmt.subject} in ",
                "",
                code=code,
                tail=pl.concat_str(pl.lit(f", column {f.name} "), phrase),
            )

    def _add_text_rules(self, f: Field) -> None:
        """Register `pattern`, `minLength` and `maxLength`, which read the text."""
        text = pl.col(f"t{self._index(f)}")
        c = f.constraints
        if c.pattern is not None:
            self._add(
                "pattern",
                f,
                text.is_not_null() & ~text.str.contains(f"^(?:{c.pattern})$"),
                "the value in ",
                f" does not match the pattern {c.pattern}",
            )
        length = text.str.len_chars()
        if c.min_length is not None:
            self._add(
                "minLength",
                f,
                length < c.min_length,
                "the value in ",
                f" is shorter than {c.min_length} characters",
            )
        if c.max_length is not None:
            self._add(
                "maxLength",
                f,
                length > c.max_length,
                "the value in ",
                f" is longer than {c.max_length} characters",
            )

    def _add_value_rules(self, f: Field) -> None:
        """Register `enum`, `minimum`, `maximum` and `unique` on parsed values."""
        value = pl.col(f"v{self._index(f)}")
        c = f.constraints
        if c.enum is not None:
            allowed = pl.Series(list(c.enum), dtype=_DTYPES[f.type])
            shown = ", ".join(str(v) for v in c.enum[:10])
            more = ", ..." if len(c.enum) > 10 else ""
            self._add(
                "enum",
                f,
                value.is_not_null() & ~value.is_in(allowed.implode()),
                "the value in ",
                f" is not one of {shown}{more}",
            )
        if c.minimum is not None:
            low = pl.lit(c.minimum, dtype=_DTYPES[f.type])
            self._add(
                "minimum",
                f,
                value < low,
                "the value in ",
                f" is below the minimum {c.minimum}",
            )
        if c.maximum is not None:
            high = pl.lit(c.maximum, dtype=_DTYPES[f.type])
            self._add(
                "maximum",
                f,
                value > high,
                "the value in ",
                f" is above the maximum {c.maximum}",
            )
        if c.unique:
            self._add(
                "unique",
                f,
                value.is_not_null(),
                "the value in ",
                " repeats the value in row {first}",
                first_of=[f"v{self._index(f)}"],
            )

    def _add(
        self,
        rule: str,
        f: Field | None,
        condition: pl.Expr,
        head: str,
        end: str,
        *,
        column: str | None = None,
        first_of: Sequence[str] = (),
        key_fields: Sequence[str] = (),
        code: pl.Expr | None = None,
        tail: pl.Expr | None = None,
    ) -> None:
        """Register a rule whose message is `head` "row N, column C" `end`.

        With `first_of` the rule fails where `condition` is true and an earlier
        row has the same values in the columns `first_of`, and `{first}` in
        `end` becomes the first such row. `tail` replaces ", column C" `end`
        when given.
        """
        if f is not None:
            column = f.name
        name = f"k{len(self.rules)}"
        first = f"{name}_first"
        if first_of:
            self.repeats[first] = list(first_of)
            condition = condition & (pl.col(first) != pl.col(_ROW))
        if tail is None:
            where = f", column {column}" if f is not None else ""
            if first_of:
                before, _, after = end.partition("{first}")
                tail = pl.concat_str(
                    pl.lit(where + before),
                    pl.col(first).cast(pl.String),
                    pl.lit(after),
                )
            else:
                tail = pl.lit(where + end)
        message = pl.concat_str(
            pl.lit(head + "row"), pl.lit(" "), pl.col(_ROW).cast(pl.String), tail
        )
        position = -1 if f is None else self.positions[f.name]
        self.rules.append(
            _Rule(
                mask=name,
                rule=rule,
                field=f,
                position=position,
                column=column,
                message=message,
                code=code if code is not None else pl.lit(None, dtype=pl.String),
                first_of=first_of,
                key_fields=key_fields,
            )
        )
        self.masks.append(condition.fill_null(False).alias(name))

    def _index(self, f: Field) -> int:
        return self.indexes[f.name]

    # Step 3: the rows where each mask is true become findings.

    def collect_findings(self, frame: pl.DataFrame, table: Table) -> pl.DataFrame:
        queries = []
        for r in self.rules:
            query = frame.lazy()
            queries.append(
                query.filter(pl.col(r.mask)).select(
                    pl.col(_ROW),
                    pl.lit(r.column, dtype=pl.String).alias("column"),
                    pl.lit(r.rule).alias("rule"),
                    pl.lit("error").alias("severity"),
                    r.code.alias("code"),
                    r.message.alias("message"),
                    pl.lit(r.position, dtype=pl.Int64).alias("position"),
                    pl.lit(_RULE_RANK[r.rule], dtype=pl.Int64).alias("rank"),
                )
            )
        parts = [*pl.collect_all(queries), self._header_findings(table)]
        return pl.concat(parts, how="vertical").sort(["row", "position", "rank"])

    def _header_findings(self, table: Table) -> pl.DataFrame:
        rows: list[tuple[object, ...]] = []
        for f in self.standard.fields:
            if f.name not in self.positions:
                rows.append(
                    (
                        table.header_row,
                        f.name,
                        "missing-column",
                        "error",
                        None,
                        f"column {f.name} of the standard is missing from the header",
                        -1,
                        _RULE_RANK["missing-column"],
                    )
                )
        names = set(self.standard.field_names)
        for position, name in enumerate(table.header):
            if name not in names:
                # A name taken from a file may be a value of a data row.
                shown = mask_personal_data(name)
                rows.append(
                    (
                        table.header_row,
                        shown,
                        "extra-column",
                        "warning",
                        None,
                        f"column {shown} is not in the standard",
                        position,
                        _RULE_RANK["extra-column"],
                    )
                )
        return pl.DataFrame(rows, schema=FINDING_SCHEMA, orient="row")

    # Step 4: error cells per field and rows with an error.

    def count(
        self, frame: pl.DataFrame, present: Sequence[Field], table: Table
    ) -> tuple[tuple[FieldSummary, ...], int]:
        whole_row = [pl.col(r.mask) for r in self.rules if r.rule == "duplicate-row"]
        exprs = []
        for f in present:
            masks = [
                pl.col(r.mask)
                for r in self.rules
                if r.field is f or f.name in r.key_fields
            ]
            bad = pl.any_horizontal([*masks, *whole_row, pl.lit(False)])
            exprs.append(bad.sum().alias(f"e{self._index(f)}"))
            exprs.append(pl.col(f"m{self._index(f)}").sum().alias(f"n{self._index(f)}"))
        every = [pl.col(r.mask) for r in self.rules]
        exprs.append(pl.any_horizontal([*every, pl.lit(False)]).sum().alias("rows"))
        counts = frame.select(exprs).row(0, named=True)
        rows = len(table.rows)
        summaries = []
        for f in self.standard.fields:
            if f.name in self.positions:
                i = self._index(f)
                summaries.append(
                    FieldSummary(
                        f.name, True, int(counts[f"n{i}"]), int(counts[f"e{i}"])
                    )
                )
            else:
                summaries.append(FieldSummary(f.name, False, rows, rows))
        all_missing = len(present) < len(self.standard.fields)
        error_rows = rows if all_missing else int(counts["rows"] or 0)
        return tuple(summaries), error_rows


def _date_tail(text: pl.Expr, column: str) -> pl.Expr:
    """Return the end of a date `type` message: which part is out of range.

    A value of the right shape (`2026-13-05`) fails only because its month, or
    its day for that month, does not exist, and the message says which.
    """
    shaped = text.str.contains(DATE_PATTERN)
    year = text.str.slice(0, 4).cast(pl.Int64, strict=False)
    month = text.str.slice(5, 2).cast(pl.Int64, strict=False)
    phrase = (
        pl.when(shaped & ~month.is_between(1, 12))
        .then(pl.lit("has the date shape YYYY-MM-DD but its month is not 01 to 12"))
        .when(shaped & (year > 0))
        .then(pl.lit("has the date shape YYYY-MM-DD but its day is not in that month"))
        .otherwise(pl.lit(_TYPE_PHRASES["date"]))
    )
    return pl.concat_str(pl.lit(f", column {column} "), phrase)


def _first_rows(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """Return for each row the first row with equal values in `columns`.

    Rows whose values hash to a value no other row has cannot repeat one, so
    they get null and only the few others are grouped exactly. On the
    benchmark's 1,000,000 rows of ten text columns this took 0.2 s where
    grouping every row took 0.6 s.
    """
    candidates = frame.select(pl.struct(columns).hash().is_duplicated()).to_series()
    first = pl.repeat(None, frame.height, dtype=pl.Int64, eager=True)
    if not candidates.any():
        return first
    grouped = frame.filter(candidates).select(pl.col(_ROW).first().over(columns))
    return first.scatter(candidates.arg_true(), grouped.to_series())


def _parse(text: pl.Expr, f: Field) -> pl.Expr:
    """Parse the text of a field's cells to its type; null where it does not parse."""
    if f.type in TEXT_TYPES:
        return text
    if f.type in ("integer", "year"):
        shape = INTEGER_PATTERN if f.type == "integer" else YEAR_PATTERN
        return pl.when(text.str.contains(shape)).then(text.cast(pl.Int64, strict=False))
    if f.type == "number":
        number = text.cast(pl.Float64, strict=False)
        return pl.when(text.str.contains(NUMBER_PATTERN) & number.is_finite()).then(
            number
        )
    if f.type == "boolean":
        return (
            pl.when(text.is_in(list(f.true_values)))
            .then(True)
            .when(text.is_in(list(f.false_values)))
            .then(False)
            .otherwise(None)
        )
    if f.type == "date":
        parsed = text.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        return pl.when(text.str.contains(DATE_PATTERN)).then(parsed)
    return _parse_datetime(text)


def _parse_datetime(text: pl.Expr) -> pl.Expr:
    """Parse ISO 8601 dates and times; one with an offset becomes naive UTC."""
    parts = text.str.extract_groups(DATETIME_PATTERN)
    wall = parts.struct.field("1").str.slice(0, 26)
    offset = parts.struct.field("2")
    naive = wall.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f", strict=False)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    minutes = (
        offset.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
        + offset.str.slice(4, 2).cast(pl.Int64, strict=False)
    ) * sign
    minutes = pl.when(offset.is_null() | (offset == "Z")).then(0).otherwise(minutes)
    return naive - pl.duration(minutes=minutes)
