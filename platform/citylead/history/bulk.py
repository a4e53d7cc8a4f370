"""Writing built cases fast (批量写入): ``COPY`` into temporary tables, then one ``INSERT … SELECT``
per table, in the caller's transaction and tenant context.

``COPY FROM`` is not allowed on tables under row-level security, so the rows land in session-local
temporary tables first (dropped at commit); the ``INSERT`` into ``cases`` and ``case_events`` is then
checked by the same policies as any other insert by the application role.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.models import Case, CaseEvent
from citylead.history.simulate import Built

__all__ = ["Rows", "case_numbers", "insert_rows", "rows_of"]

CASE_COLUMNS = [c.name for c in Case.__table__.columns]
EVENT_COLUMNS = [c.name for c in CaseEvent.__table__.columns]
_JSON = {
    c.name for t in (Case, CaseEvent) for c in t.__table__.columns if c.type.__class__.__name__ == "JSONB"
}


async def case_numbers(session: AsyncSession, n: int) -> list[int]:
    """``n`` values of the case-number sequence (what ``do_report`` takes one at a time)."""
    rows = await session.scalars(
        text("SELECT nextval('case_number_seq') FROM generate_series(1, :n)"), {"n": n}
    )
    return sorted(int(v) for v in rows)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # what json.dumps(…, ensure_ascii=False) gives
_CASE_VALUES = operator.attrgetter(*CASE_COLUMNS)
_EVENT_VALUES = operator.itemgetter(*EVENT_COLUMNS)
_CASE_JSON = [i for i, c in enumerate(CASE_COLUMNS) if c in _JSON]
_EVENT_JSON = [i for i, c in enumerate(EVENT_COLUMNS) if c in _JSON]


def _record(values: tuple[Any, ...], json_at: list[int]) -> tuple[Any, ...]:
    """A COPY record: the JSONB columns as JSON text (None stays NULL)."""
    row = list(values)
    for i in json_at:
        if row[i] is not None:
            row[i] = _ENCODE(row[i])
    return tuple(row)


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]  # (cases, events) as COPY records


def rows_of(built: Sequence[Built]) -> Rows:
    """The COPY records of built cases and their events (pure: done while the database works)."""
    cases = [_record(_CASE_VALUES(b.case), _CASE_JSON) for b in built]
    return cases, [_record(_EVENT_VALUES(e), _EVENT_JSON) for b in built for e in b.events]


async def insert_rows(session: AsyncSession, rows: Rows) -> tuple[int, int]:
    """Insert the records in the session's transaction; (cases, events) written."""
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    cases, events = rows
    for table, columns, records in (("cases", CASE_COLUMNS, cases), ("case_events", EVENT_COLUMNS, events)):
        if not records:
            continue
        staging = f"history_{table}"
        cols = ", ".join(columns)
        await raw.execute(f"CREATE TEMP TABLE {staging} (LIKE {table}) ON COMMIT DROP")
        await raw.copy_records_to_table(staging, records=records, columns=columns)
        await raw.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging}")
        await raw.execute(f"DROP TABLE {staging}")
    return len(cases), len(events)
