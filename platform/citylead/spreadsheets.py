"""Tables for people (导出表格): one table, written as CSV or as an Excel workbook.

Staff open exports in Excel (WPS) on Windows: CSV is UTF-8 with a byte-order mark, so Chinese
headers are not mangled, and CRLF line ends. Cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@`` first) are quoted with a leading apostrophe in both formats
(CSV injection); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "Column", "Table", "to_csv", "to_xlsx"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SH = ZoneInfo("Asia/Shanghai")  # Excel has no time zones: times are written in Beijing time
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | Decimal | date | datetime | bool | None


@dataclass(frozen=True)
class Column:
    key: str  # the row dict's key
    label: str  # the header staff read (中文)


@dataclass(frozen=True)
class Table:
    """``rows`` are dicts keyed by the columns' keys; a missing key is an empty cell."""

    title: str  # the sheet name (at most 31 characters in Excel)
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]] = field(default_factory=list)

    def cells(self) -> list[list[Cell]]:
        return [[_safe(row.get(c.key)) for c in self.columns] for row in self.rows]


def _safe(value: Any) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if value is None or isinstance(value, str | int | float | Decimal | date | datetime | bool):
        return value
    return str(value)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def _local(value: Cell) -> Cell:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(SH).replace(tzinfo=None)
    return value


def to_csv(table: Table) -> bytes:
    """UTF-8 with BOM, CRLF, a header row of the columns' labels."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in table.columns])
    writer.writerows([[_text(v) for v in row] for row in table.cells()])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    """One sheet named after the table, a bold frozen header row, columns sized to their text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31] or "Sheet1"
    sheet.append([c.label for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = [len(c.label) * 2 for c in table.columns]
    for row in table.cells():
        sheet.append([_local(v) for v in row])
        widths = [max(w, min(len(_text(v)) + 2, 60)) for w, v in zip(widths, row, strict=True)]
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(width, 8)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
