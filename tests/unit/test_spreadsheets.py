"""CSV and XLSX exports (``citylead/spreadsheets.py``): headers, BOM, formula quoting, local times."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from citylead.spreadsheets import Column, Table, to_csv, to_xlsx

TABLE = Table(
    "考核结果",
    [Column("name", "名称"), Column("score", "综合得分"), Column("at", "计算时间")],
    [
        {"name": "玄武区", "score": 92.5, "at": datetime(2026, 10, 31, 16, 30, tzinfo=UTC)},
        {"name": '=HYPERLINK("x")', "score": None},
    ],
)


def test_csv_has_a_bom_chinese_headers_crlf_and_quoted_formulas() -> None:
    data = to_csv(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.split("\r\n") == [
        "名称,综合得分,计算时间",
        "玄武区,92.5,2026-10-31T16:30:00+00:00",
        '"\'=HYPERLINK(""x"")",,',
        "",
    ]


def test_xlsx_keeps_numbers_writes_beijing_time_and_quotes_formulas() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(TABLE)))
    sheet = book["考核结果"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["名称", "综合得分", "计算时间"]
    assert rows[1] == ["玄武区", 92.5, datetime(2026, 11, 1, 0, 30)]  # noqa: DTZ001 (Excel: naive Beijing time)
    assert rows[2] == ['\'=HYPERLINK("x")', None, None]
    assert sheet.freeze_panes == "A2"
