"""Spreadsheets people download (.xlsx and .csv). Every export is written here, so none of them
can carry a live formula.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run by Excel,
WPS or LibreOffice as a formula (a channel code named `=cmd|'/C calc'!A0`, a nickname
`=HYPERLINK(...)`). Following OWASP's advice on CSV injection, such text is written with a
leading `'`, so it shows as the text it is. Numbers, dates and booleans stay what they are,
so sums and charts still work.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_IN_XLSX = re.compile(r"[\000-\010\013\014\016-\037]")  # control characters XML cannot hold
_ILLEGAL_IN_TITLE = re.compile(r"[\\*?:/\[\]]")
TITLE_MAX_CHARS = 31  # Excel's limit on a sheet's name


def neutralise(value: Any) -> Any:
    """The value as a cell may hold it: text that a spreadsheet would run gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass
class Sheet:
    """One sheet of a workbook. `rows` may be a generator: it is written as it is read.
    With `header`, the first row is bold and stays in view when scrolling. Column positions
    (`widths`, `number_formats`) count from 0; a number format applies to numbers only."""

    title: str
    rows: Iterable[Sequence[Any]]
    header: bool = True
    widths: Sequence[float] = ()
    number_formats: dict[int, str] = field(default_factory=dict)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _title(text: str, position: int) -> str:
    return _ILLEGAL_IN_TITLE.sub(" ", text).strip()[:TITLE_MAX_CHARS] or f"Sheet{position}"


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The sheets as an .xlsx workbook, written row by row (a write-only workbook), so a large
    export never sits in memory as cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for position, spec in enumerate(sheets, start=1):
        sheet = book.create_sheet(_title(spec.title, position))  # openpyxl numbers a repeated title
        for index, width in enumerate(spec.widths):
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        if spec.header:
            sheet.freeze_panes = "A2"
        for number, row in enumerate(spec.rows):
            cells = []
            for index, value in enumerate(row):
                if isinstance(value, str):
                    value = _ILLEGAL_IN_XLSX.sub("", value)
                cell = WriteOnlyCell(sheet, value=neutralise(value))
                if isinstance(value, str):
                    cell.data_type = "s"  # text, whatever openpyxl would guess
                elif index in spec.number_formats and _is_number(value):
                    cell.number_format = spec.number_formats[index]
                if spec.header and number == 0:
                    cell.font = bold
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """The rows as UTF-8 CSV with a byte-order mark, which Excel needs to read Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if value is None else neutralise(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
