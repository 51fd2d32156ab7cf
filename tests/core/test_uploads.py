"""The first column of an uploaded list, as operators export it: Excel, UTF-8 or GBK CSV, text;
and what a hostile file cannot do: unpack to gigabytes, run past the row limit, echo megabytes."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils import translation

from siyu.core.uploads import CELL_MAX_CHARS, first_column, read_upload
from tests.support.spreadsheets import xlsx, xlsx_with_sheet

MB = 2**20


def read(name: str, data: bytes, max_rows: int = 1000) -> list[tuple[int, str]]:
    return first_column(name, data, max_bytes=10 * MB, max_rows=max_rows)


def refusal(name: str, data: bytes, max_rows: int = 1000, max_bytes: int = 10 * MB) -> str:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        first_column(name, data, max_bytes=max_bytes, max_rows=max_rows)
    return refused.value.message_dict["file"][0]


def test_excel_numbers_read_as_typed_and_rows_keep_their_numbers():
    data = xlsx([["手机号"], [13800001234.0, "x"], [None], [" 13900001234 "]])
    assert read("名单.XLSX", data) == [(1, "手机号"), (2, "13800001234"), (3, ""), (4, "13900001234")]


def test_gbk_csv_and_utf8_text_with_bom():
    assert read("codes.csv", "券码,备注\nA1,甲\n".encode("gb18030")) == [(1, "券码"), (2, "A1")]
    assert read("codes.txt", "\ufeffA1\n\nB2\n".encode()) == [(1, "A1"), (2, ""), (3, "B2")]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("big.csv", b"x" * (MB + 1), "larger than 1 MB"),
    ("list.pdf", b"%PDF", "Upload a .xlsx, .csv or .txt file."),
    ("broken.xlsx", b"not a zip", "not a readable .xlsx"),
    ("odd.csv", b"\xff\xfe\x00\xd8\x00", "neither UTF-8 nor GBK"),
])
def test_what_cannot_be_read_is_refused_with_a_reason(name, data, reason):
    assert reason in refusal(name, data, max_bytes=MB)


def test_a_workbook_that_unpacks_past_the_cap_is_refused_before_it_is_parsed():
    # The probe's bomb: a few hundred KB that unpack to tens of MB and millions of rows.
    bomb = xlsx_with_sheet(b'<row><c t="n"><v>13800000000</v></c></row>' * 1_300_000)
    assert len(bomb) < 500_000
    assert "unpacks to more than 50 MB" in refusal("bomb.xlsx", bomb, max_rows=1_000_000)
    # A caller that allows fewer rows allows less unpacked data (160 bytes a row, 4 MB at least).
    assert "unpacks to more than 4 MB" in refusal("bomb.xlsx", bomb, max_rows=1000)
    assert "unpacks to more than 8 MB" in refusal("bomb.xlsx", bomb, max_rows=50_000)


def test_a_workbook_packed_like_a_bomb_is_refused():
    # 5 MB in one shared string, a few KB on disk.
    data = xlsx_with_sheet(b'<row><c t="s"><v>0</v></c></row>', ["A" * (5 * MB)])
    assert len(data) < 20_000
    assert "compressed more than 100 times" in refusal("cell.xlsx", data, max_rows=200_000)


def test_rows_past_the_limit_are_refused_as_they_are_read():
    assert read("codes.csv", b"A\n" * 100, max_rows=100)[-1] == (100, "A")
    assert "more than 100 rows" in refusal("codes.csv", b"A\n" * 101, max_rows=100)
    # Blank rows count: one value at row 1,000,000 is not read by making up the rows between.
    far = xlsx_with_sheet(b'<row r="1"><c r="A1" t="inlineStr"><is><t>A</t></is></c></row>'
                          b'<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>B</t></is></c></row>')
    assert "more than 100 rows" in refusal("far.xlsx", far, max_rows=100)


def test_long_cells_are_cut_and_marked():
    (_number, text), = read("codes.csv", b"x" * 100_000 + b"\n")
    assert text == "x" * CELL_MAX_CHARS + "…"
    data = xlsx_with_sheet(b'<row><c t="s"><v>0</v></c></row>', ["y" * 1000])
    assert read("codes.xlsx", data) == [(1, "y" * CELL_MAX_CHARS + "…")]


def test_a_csv_cell_past_the_csv_field_limit_is_refused_with_a_reason():
    assert "Row 2 of the file cannot be read" in refusal("codes.csv", b"A\n" + b"x" * 200_000 + b"\n")


def test_an_upload_larger_than_the_limit_is_refused_by_its_size_without_reading_it():
    upload = File(io.BytesIO(b"x" * (MB + 10)), name="big.csv")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        read_upload(upload, max_bytes=MB)
    assert "larger than 1 MB" in refused.value.message_dict["file"][0]
    assert upload.tell() == 0
    assert read_upload(File(io.BytesIO(b"A\nB\n"), name="ok.csv"), max_bytes=MB) == b"A\nB\n"
