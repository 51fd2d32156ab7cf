"""Uploaded lists (coupon codes, customer ids, phone numbers): the first column of a .xlsx,
.csv or .txt file, as operators export them from Excel or another tool.

An upload is hostile until read: a small .xlsx can unpack to gigabytes (a zip bomb), a sheet
can declare millions of empty rows, and one cell can hold megabytes that a report would echo
back. So the file is read at most to its byte limit, an .xlsx archive is inspected before it is
parsed, rows are streamed and reading stops at the caller's row limit, and each cell's text is
cut to `CELL_MAX_CHARS`. Reports echo at most `REPORT_ROWS` problem rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Generator

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext as _

# What an .xlsx archive may unpack to: XLSX_BYTES_PER_ROW for each row the caller allows (a
# sheet row and its shared string take 60-130 bytes), at least 4 MB and at most 50 MB. Only the
# sheet is streamed; openpyxl holds the other parts in memory at 7-15 times their size.
XLSX_BYTES_PER_ROW = 160
XLSX_MIN_UNPACKED_BYTES = 4 * 2**20
XLSX_MAX_UNPACKED_BYTES = 50 * 2**20
XLSX_MAX_RATIO = 100  # unpacked : file size; real lists pack 3-15 times, bombs 300 and more
XLSX_RATIO_FROM_BYTES = 2**20  # below this much unpacked data any ratio is harmless
CELL_MAX_CHARS = 200  # longer than any id, phone number or code; the rest is cut and marked
CLIPPED = "…"
REPORT_ROWS = 20  # problem rows a page shows; the rest are counted ("and N more")


def _too_large(max_bytes: int) -> ValidationError:
    return ValidationError({"file": _("The file is larger than %(mb)s MB.") % {"mb": max_bytes // 2**20}})


def read_upload(upload: File, *, max_bytes: int) -> bytes:
    """The uploaded file's bytes, refused on `file` if larger than `max_bytes`. The declared
    size is checked first, and no more than `max_bytes + 1` bytes are ever read."""
    if upload.size is not None and upload.size > max_bytes:
        raise _too_large(max_bytes)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    return data


def clip(text: str) -> str:
    """The text, cut to `CELL_MAX_CHARS` and marked with an ellipsis if it was longer."""
    return text if len(text) <= CELL_MAX_CHARS else text[:CELL_MAX_CHARS] + CLIPPED


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or code typed into Excel is a number
    return clip(str(value).strip())


def _unpacked_limit(max_rows: int) -> int:
    return min(max(max_rows * XLSX_BYTES_PER_ROW, XLSX_MIN_UNPACKED_BYTES), XLSX_MAX_UNPACKED_BYTES)


def _check_archive(data: bytes, max_unpacked: int) -> None:
    """Refuse a workbook that would unpack to too much, before anything is decompressed.
    Python's zipfile never inflates a member past its declared size (a member that lies
    fails its checksum), so the declared sizes bound what parsing can cost. The ratio is
    taken to the file's length, which, unlike a declared packed size, cannot lie."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValidationError({"file": _("This is not a readable .xlsx workbook.")}) from exc
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_unpacked:
        raise ValidationError({"file": _("The workbook unpacks to more than %(mb)s MB. Upload a smaller "
                                         "file or a .csv.") % {"mb": -(-max_unpacked // 2**20)}})
    if unpacked > XLSX_RATIO_FROM_BYTES and unpacked > XLSX_MAX_RATIO * len(data):
        raise ValidationError({"file": _("The workbook is compressed more than %(n)s times, which a list "
                                         "never is. Save it again from Excel or upload a .csv.")
                                       % {"n": XLSX_MAX_RATIO}})


def _xlsx_cells(data: bytes, max_rows: int) -> Generator[tuple[int, object], None, None]:
    """(row number, first cell) of the first sheet, up to row `max_rows + 1`; blank and missing
    rows included, so numbers match what Excel shows."""
    from openpyxl import load_workbook

    _check_archive(data, _unpacked_limit(max_rows))
    unreadable = ValidationError({"file": _("This is not a readable .xlsx workbook.")})
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise unreadable from exc
    try:
        if not book.worksheets:
            raise unreadable
        # max_row bounds the rows openpyxl makes up for gaps and for a declared dimension.
        rows = book.worksheets[0].iter_rows(max_col=1, max_row=max_rows + 1, values_only=True)
        number = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # a sheet that breaks off or is not XML
                raise unreadable from exc
            number += 1
            yield number, row[0] if row else None
    finally:
        book.close()


def _text_cells(data: bytes) -> Generator[tuple[int, object], None, None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError as exc:
            raise ValidationError({"file": _("The file is neither UTF-8 nor GBK text.")}) from exc
    reader = csv.reader(io.StringIO(text))
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
            raise ValidationError({"file": _("Row %(row)s of the file cannot be read as CSV.")
                                           % {"row": number + 1}}) from exc
        number += 1
        yield number, row[0] if row else None


def first_column(file_name: str | None, data: bytes, *, max_bytes: int, max_rows: int) -> list[tuple[int, str]]:
    """(row number, text) of the first column of a .xlsx (first sheet), .csv or .txt file.
    Text files may be UTF-8 or GBK. A file with more than `max_rows` rows (blank rows count)
    is refused as soon as row `max_rows + 1` is read, and a workbook that unpacks to more than
    `XLSX_BYTES_PER_ROW` per allowed row or is packed like a bomb before it is parsed; so is
    anything unreadable, each with a reason on `file`. Text longer than `CELL_MAX_CHARS` is cut
    (see `clip`)."""
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    name = (file_name or "").lower()
    if name.endswith(".xlsx"):
        cells = _xlsx_cells(data, max_rows)
    elif name.endswith((".csv", ".txt")):
        cells = _text_cells(data)
    else:
        raise ValidationError({"file": _("Upload a .xlsx, .csv or .txt file.")})
    rows: list[tuple[int, str]] = []
    with contextlib.closing(cells):
        for number, value in cells:
            if number > max_rows:
                raise ValidationError({"file": _("The file has more than %(n)s rows. Upload at most %(n)s "
                                                 "rows at a time.") % {"n": f"{max_rows:,}"}})
            rows.append((number, _text(value)))
    return rows
