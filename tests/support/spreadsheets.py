"""Excel workbooks built in memory, as operators upload them."""

from __future__ import annotations

import io

from openpyxl import Workbook


def xlsx(rows: list[list[object]]) -> bytes:
    """A one-sheet .xlsx file with these rows."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
