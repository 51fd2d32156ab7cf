"""Excel workbooks built in memory, as operators upload them, and as an attacker would."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

from openpyxl import Workbook

_MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_SHARED_STRINGS_TYPE = (b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                        b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')


def xlsx(rows: list[list[object]]) -> bytes:
    """A one-sheet .xlsx file with these rows."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_with_sheet(sheet_data: bytes, shared_strings: Sequence[str] = ()) -> bytes:
    """A valid .xlsx whose first sheet's `<sheetData>` is `sheet_data` and whose shared strings
    are these: for files openpyxl would take too long to build (millions of rows, a cell of
    megabytes). `<row>` and `<c>` may leave out their `r`; they then follow each other."""
    strings = b"".join(b"<si><t>" + escape(s).encode() + b"</t></si>" for s in shared_strings)
    count = len(shared_strings)
    parts = {
        "xl/worksheets/sheet1.xml": b"<worksheet " + _MAIN + b"><sheetData>" + sheet_data + b"</sheetData></worksheet>",
        "xl/sharedStrings.xml": b"<sst " + _MAIN + b' count="%d" uniqueCount="%d">' % (count, count) + strings + b"</sst>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx([["x"]]))) as base, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as made:
        for name in base.namelist():
            data = parts.pop(name, None) or base.read(name)
            if name == "[Content_Types].xml":  # openpyxl writes inline strings, so declare the table
                data = data.replace(b"</Types>", _SHARED_STRINGS_TYPE + b"</Types>")
            made.writestr(name, data)
        for name, data in parts.items():
            made.writestr(name, data)
    return out.getvalue()
