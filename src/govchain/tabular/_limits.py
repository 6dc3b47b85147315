"""The maximum length of a cell, checked before an over-long cell is held in memory.

Excel stores at most 32,767 characters in a cell (since Excel 97, as Microsoft
Knowledge Base article 211878 states), so a longer cell does not come from it. A workbook compresses
well, and a 100 KB .xlsx can inflate to one cell of 100 million characters, so
a worksheet part is read through `LimitedPart`. It rejects any stretch of the
XML without a `<` that is long enough to hold such a cell, before the parser
collects that text into a string. Delimited text files get the same cell limit.
"""

from __future__ import annotations

import io
import re
from typing import IO

from govchain.errors import ValidationError

#: Maximum characters in an Excel cell.
MAX_CELL_CHARS = 32_767
#: Bytes of XML that can encode one character: `&#1114111;` takes 10. UTF-8,
#: the predefined entities and the OOXML `_xHHHH_` escape take fewer.
_MAX_BYTES_PER_CHAR = 10
#: Maximum stretch of a part without a `<`. Every text node and attribute value
#: lies inside such a stretch, so a longer one would hold an over-long cell.
MAX_TEXT_RUN_BYTES = MAX_CELL_CHARS * _MAX_BYTES_PER_CHAR

_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')
#: Bytes of the previous block kept to find a cell start cut by a block end.
_OVERLAP = 64


def too_long_error(place: str) -> ValidationError:
    """Return the error for an over-long cell at `place` (file, sheet, cell)."""
    return ValidationError(
        f"{place}: the text is longer than {MAX_CELL_CHARS:,} characters, the "
        "maximum an Excel cell can hold; shorten the value or move the long "
        "text to a separate file",
        reason="cell-too-long",
    )


class LimitedPart(io.RawIOBase):
    """A readable zip part that raises `ValidationError` on an over-long text run.

    `place` names the file and sheet for the message. The cell named is the
    last `<c r="...">` start before the run, when there is one.
    """

    def __init__(self, stream: IO[bytes], place: str) -> None:
        super().__init__()
        self._stream = stream
        self._place = place
        self._run = 0
        self._cell: bytes | None = None
        self._tail = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        # Blocks no longer than the limit can only exceed it across a `<`-free
        # block or at their ends, so two searches a block check the whole part.
        size = min(len(buffer), MAX_TEXT_RUN_BYTES)
        block = self._stream.read(size)
        self._check(block)
        buffer[: len(block)] = block
        return len(block)

    def _check(self, block: bytes) -> None:
        first = block.find(b"<")
        if first < 0:
            self._run += len(block)
        else:
            self._run += first
        if self._run > MAX_TEXT_RUN_BYTES:
            cell = "" if self._cell is None else f", cell {self._cell.decode()}"
            raise too_long_error(f"{self._place}{cell}")
        if first >= 0:
            self._run = len(block) - block.rfind(b"<") - 1
            text = self._tail + block
            start = text.rfind(b"<c ")
            if start > text.rfind(b"</c>"):
                found = _CELL_START.match(text, start)
                self._cell = found.group(1) if found else None
            elif start >= 0 or b"</c>" in text:
                self._cell = None
        self._tail = block[-_OVERLAP:]

    def close(self) -> None:
        self._stream.close()
        super().close()


def open_limited(stream: IO[bytes], place: str) -> IO[bytes]:
    """Return `stream` buffered and checked by `LimitedPart`."""
    return io.BufferedReader(LimitedPart(stream, place), buffer_size=1 << 16)


def read_limited(stream: IO[bytes], place: str) -> bytes:
    """Read all of `stream` through `LimitedPart`."""
    blocks = []
    with LimitedPart(stream, place) as limited:
        while block := limited.read(MAX_TEXT_RUN_BYTES):
            blocks.append(block)
    return b"".join(blocks)
