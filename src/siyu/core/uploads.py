"""Uploaded lists (coupon codes, customer ids, phone numbers): the first column of a .xlsx,
.csv or .txt file, as operators export them from Excel or another tool."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or code typed into Excel is a number
    return str(value).strip()


def first_column(file_name: str | None, data: bytes, *, max_bytes: int) -> list[tuple[int, str]]:
    """(row number, text) of the first column of a .xlsx (first sheet), .csv or .txt file.
    Text files may be UTF-8 or GBK; anything else is refused with a reason on `file`."""
    if len(data) > max_bytes:
        raise ValidationError({"file": _("The file is larger than %(mb)s MB.") % {"mb": max_bytes // 2**20}})
    name = (file_name or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise ValidationError({"file": _("This is not a readable .xlsx workbook.")}) from exc
        rows = [(number, _text(row[0] if row else None))
                for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)]
        book.close()
        return rows
    if not name.endswith((".csv", ".txt")):
        raise ValidationError({"file": _("Upload a .xlsx, .csv or .txt file.")})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError as exc:
            raise ValidationError({"file": _("The file is neither UTF-8 nor GBK text.")}) from exc
    return [(number, (row[0] if row else "").strip()) for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)]
