"""The one writer of downloaded spreadsheets: text a spreadsheet would run is written as text
(OWASP's CSV-injection advice), numbers stay numbers, and odd text never breaks an export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from siyu.core.exports import Sheet, csv_bytes, xlsx_bytes

DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|'/C calc'!A0"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_xlsx_text_that_would_run_gets_a_leading_quote(text):
    sheet = load_workbook(io.BytesIO(xlsx_bytes([Sheet("导出", [["名称"], [text]])]))).active
    # XML reads a carriage return back as a line feed.
    assert sheet["A2"].value == "'" + text.replace("\r", "\n") and sheet["A2"].data_type == "s"


@pytest.mark.parametrize("text", DANGEROUS)
def test_csv_text_that_would_run_gets_a_leading_quote(text):
    rows = list(csv.reader(io.StringIO(csv_bytes([["名称"], [text]]).decode("utf-8-sig"), newline="")))
    assert rows == [["名称"], ["'" + text]]


def test_numbers_dates_and_plain_text_are_written_as_they_are():
    day = dt.date(2026, 12, 5)
    content = xlsx_bytes([Sheet("t", [["a", "b", "c", "d", "e"], [-3, 0.25, day, "a=b", "#N/A"]],
                                number_formats={1: "0.0%"})])
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[2]] == [-3, 0.25, dt.datetime(2026, 12, 5), "a=b", "#N/A"]
    assert sheet["B2"].number_format == "0.0%" and sheet["E2"].data_type == "s"
    assert csv_bytes([[-3, 0.25, None, "a=b"]]).decode("utf-8-sig") == "-3,0.25,,a=b\r\n"


def test_control_characters_and_odd_sheet_names_do_not_break_the_workbook():
    content = xlsx_bytes([Sheet("a/b: [c]?" + "长" * 40, [["x\x01=y"], ["\x01=cmd"]], header=False), Sheet("", [[1]])])
    book = load_workbook(io.BytesIO(content))
    assert book.worksheets[0]["A1"].value == "x=y" and book.worksheets[0]["A2"].value == "'=cmd"
    assert len(book.worksheets[0].title) == 31
    assert book.worksheets[1]["A1"].value == 1
