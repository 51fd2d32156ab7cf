"""The first column of an uploaded list, as operators export it: Excel, UTF-8 or GBK CSV, text."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from siyu.core.uploads import first_column
from tests.support.spreadsheets import xlsx

MB = 2**20


def test_excel_numbers_read_as_typed_and_rows_keep_their_numbers():
    data = xlsx([["手机号"], [13800001234.0, "x"], [None], [" 13900001234 "]])
    assert first_column("名单.XLSX", data, max_bytes=MB) == [(1, "手机号"), (2, "13800001234"), (3, ""),
                                                             (4, "13900001234")]


def test_gbk_csv_and_utf8_text_with_bom():
    assert first_column("codes.csv", "券码,备注\nA1,甲\n".encode("gb18030"), max_bytes=MB) == [(1, "券码"), (2, "A1")]
    assert first_column("codes.txt", "\ufeffA1\n\nB2\n".encode(), max_bytes=MB) == [(1, "A1"), (2, ""), (3, "B2")]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("big.csv", b"x" * (MB + 1), "larger than 1 MB"),
    ("list.pdf", b"%PDF", "Upload a .xlsx, .csv or .txt file."),
    ("broken.xlsx", b"not a zip", "not a readable .xlsx"),
    ("odd.csv", b"\xff\xfe\x00\xd8\x00", "neither UTF-8 nor GBK"),
])
def test_what_cannot_be_read_is_refused_with_a_reason(name, data, reason):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        first_column(name, data, max_bytes=MB)
    assert reason in refused.value.message_dict["file"][0]
