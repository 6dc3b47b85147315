"""Read government spreadsheets and delimited text files as tables of text.

`read_table` reads .csv, .tsv, .xlsx, .xlsm, .xlsb, .xls and .ods files. It
detects the text encoding and delimiter of text files, finds the header row below
any title rows, and returns every cell as text so that identifiers keep their
leading zeros.
"""

from govchain.tabular._reader import read_table
from govchain.tabular._table import Table

__all__ = ["Table", "read_table"]
