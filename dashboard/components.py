"""Pieces every page uses: plain HTML tables from column lists, and the export buttons (导出).

A page describes a table once, as ``citylead.spreadsheets`` columns: the same columns draw the
table on screen and write the CSV or Excel file, so an export shows what the page shows.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from citylead.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, Column, Table, to_csv, to_xlsx

__all__ = ["export_controls", "html_table", "register_export", "send_table"]


def html_table(
    columns: Sequence[Column], rows: Sequence[dict[str, Any]], *, footer: str | None = None
) -> list[html.Thead | html.Tbody | html.Tfoot]:
    """The rows as a plain HTML table (no extra component bundle to serve); ``—`` for None.
    ``footer``: a line across the table under the rows (e.g. what a cut table leaves out)."""
    head = html.Thead(html.Tr([html.Th(c.label) for c in columns]))
    body = html.Tbody(
        [html.Tr([html.Td("—" if row.get(c.key) is None else row[c.key]) for c in columns]) for row in rows]
    )
    if footer is None:
        return [head, body]
    return [head, body, html.Tfoot(html.Tr(html.Td(footer, colSpan=len(columns))))]


def export_controls(prefix: str) -> html.Div:
    """``导出 CSV`` and ``导出 Excel`` buttons (ids ``{prefix}-csv``, ``{prefix}-xlsx``) and the
    download they fill (``{prefix}-download``)."""
    return html.Div(
        [
            html.Button("导出 CSV", id=f"{prefix}-csv", n_clicks=0, className="export"),
            html.Button("导出 Excel", id=f"{prefix}-xlsx", n_clicks=0, className="export"),
            dcc.Download(id=f"{prefix}-download"),
        ],
        className="exports",
    )


def send_table(table: Table, fmt: str, filename: str) -> dict[str, Any]:
    """What ``dcc.Download`` needs for ``table`` as ``csv`` or ``xlsx``."""
    data, media_type = (to_csv(table), CSV_MEDIA_TYPE) if fmt == "csv" else (to_xlsx(table), XLSX_MEDIA_TYPE)
    return {
        "content": base64.b64encode(data).decode("ascii"),
        "filename": f"{filename}.{fmt}",
        "type": media_type,
        "base64": True,
    }


def register_export(
    app: Dash, prefix: str, states: Sequence[State], build: Callable[..., tuple[Table, str]]
) -> None:
    """Wire the buttons of ``export_controls(prefix)``: ``build(*state values)`` returns the table
    and a file name (without extension), read when a button is pressed."""

    @app.callback(
        Output(f"{prefix}-download", "data"),
        Input(f"{prefix}-csv", "n_clicks"),
        Input(f"{prefix}-xlsx", "n_clicks"),
        *states,
        prevent_initial_call=True,
    )
    def export(csv_clicks: int | None, xlsx_clicks: int | None, *values: Any) -> dict[str, Any]:
        pressed = ctx.triggered_id
        if pressed not in (f"{prefix}-csv", f"{prefix}-xlsx") or not (csv_clicks or xlsx_clicks):
            raise PreventUpdate
        table, filename = build(*values)
        return send_table(table, "csv" if pressed == f"{prefix}-csv" else "xlsx", filename)
