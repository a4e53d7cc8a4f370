"""What an onboarding request brings: the target, the template, the files, the first administrator.

The files keep their formats elsewhere in the platform: grids are the geography GeoJSON of
docs/geography.md, components the inventory CSV/GeoJSON of docs/units.md. Units (单位名录) have
a file of their own, read here: CSV (UTF-8, BOM allowed, or GB18030) with the header
``code,name,kind,sector,street_code,classes,accounts,credit_code,contact`` where ``classes`` and
``accounts`` are lists joined by ``;``, or JSON ``{"units": [{…}, …]}`` with real lists.

Problems name the file and the place: ``units: rows/4/street_code``, ``grids: features/12/…``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from citylead.units._formats import csv_records
from tenants.errors import FieldProblem

__all__ = [
    "FILE_NAMES",
    "UNIT_COLUMNS",
    "InputFile",
    "OnboardRequest",
    "RawUnit",
    "email_rule",
    "file_from_path",
    "prefixed",
    "read_units",
]

FILE_NAMES = ("grids", "units", "components")
UNIT_COLUMNS = (
    "code",
    "name",
    "kind",
    "sector",
    "street_code",
    "classes",
    "accounts",
    "credit_code",
    "contact",
)
_LISTS = ("classes", "accounts")
_EMAIL = re.compile(r"^[^@\s/]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_MEDIA = {
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".csv": "text/csv",
}
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    filename: str
    media_type: str
    content: bytes

    def describe(self) -> dict[str, Any]:
        return {"filename": self.filename, "media_type": self.media_type, "bytes": len(self.content)}


@dataclass(frozen=True)
class OnboardRequest:
    """Onboard ``code`` (a county-level division under city ``parent``, or a city under province
    ``parent``) with ``template``; the files are optional (a county needs grids unless it has them)."""

    kind: Literal["county", "city"]
    code: str
    parent: str
    template: str
    admin_email: str | None = None
    files: dict[str, InputFile] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        """What the job records of the request (file names and sizes, never their bytes)."""
        return {
            "parent": self.parent,
            "admin_email": self.admin_email,
            "files": {name: f.describe() for name, f in sorted(self.files.items())},
        }


def file_from_path(name: str, path: Path) -> InputFile:
    """An input file read from disk; its type from the extension (``.geojson``, ``.json``, ``.csv``)."""
    media = _MEDIA.get(path.suffix.lower())
    if media is None:
        raise ValueError(f"{name}: {path.name} must end in .geojson, .json or .csv")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{name}: {path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    return InputFile(path.name, media, path.read_bytes())


def email_rule(value: str | None) -> str | None:
    if value is None:
        return None
    return None if _EMAIL.match(value) and len(value) <= 255 else "must be an e-mail address"


def prefixed(source: str, problems: list[FieldProblem]) -> list[FieldProblem]:
    """The problems of one input file, their fields prefixed with the file (``units: rows/3/code``)."""
    return [FieldProblem(f"{source}: {p.field}", p.rule, p.value) for p in problems]


@dataclass
class RawUnit:
    at: str  # "rows/4" or "units/3"
    values: dict[str, Any]


def read_units(data: bytes, media_type: str) -> tuple[list[RawUnit], list[FieldProblem]]:
    """The units of a units file and the problems of its shape (values are checked later)."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind == "text/csv":
        return _csv(data)
    if kind in ("application/json", "application/geo+json"):
        return _json(data)
    return [], [FieldProblem("file", "must be CSV (text/csv) or JSON (application/json)", media_type)]


def _csv(data: bytes) -> tuple[list[RawUnit], list[FieldProblem]]:
    records, problems = csv_records(data, UNIT_COLUMNS, ("code", "name", "kind"))
    units = []
    for at, cells in records:
        values: dict[str, Any] = {h: v for h, v in cells.items() if v and h not in _LISTS}
        for name in _LISTS:
            if name in cells:
                values[name] = [part.strip() for part in cells[name].split(";") if part.strip()]
        units.append(RawUnit(at, values))
    return units, problems


def _json(data: bytes) -> tuple[list[RawUnit], list[FieldProblem]]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return [], [FieldProblem("file", "must be a JSON document")]
    items = doc.get("units") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return [], [FieldProblem("units", 'must be {"units": [ … ]}')]
    units: list[RawUnit] = []
    problems: list[FieldProblem] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(FieldProblem(f"units/{i}", "must be an object"))
            continue
        unknown = [k for k in item if k not in UNIT_COLUMNS]
        problems += [
            FieldProblem(f"units/{i}/{k}", "is not a field; the fields are " + ", ".join(UNIT_COLUMNS), k)
            for k in unknown
        ]
        values = {k: v for k, v in item.items() if k in UNIT_COLUMNS and v not in (None, "")}
        for name in _LISTS:
            values.setdefault(name, [])
        units.append(RawUnit(f"units/{i}", values))
    return units, problems
