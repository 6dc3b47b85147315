"""Read government spreadsheets and delimited text files as tables of text.

`read_table` reads .csv, .tsv, .xlsx, .xlsm, .xlsb, .xls and .ods files. It
detects the text encoding and delimiter of text files, finds the header row below
any title rows, flattens headers over several rows, and returns every cell as
text so that identifiers keep their leading zeros. What the import changed or
withheld is listed in `Table.notes`; docs/import.md describes each case.
"""

from govchain.tabular._reader import read_table
from govchain.tabular._table import ImportNote, Table, TableError

__all__ = ["ImportNote", "Table", "TableError", "read_table"]
