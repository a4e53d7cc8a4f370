"""Reading an inventory file into rows of raw values: CSV with a header row, or GeoJSON points.

Every row remembers where its values came from, so a problem names the exact place in the file:
``rows/12/object_id`` (12 is the spreadsheet row: the header is row 1) or
``features/11/properties/object_id`` (a JSON pointer into the document, counted from 0).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from tenants.errors import FieldProblem, UnsupportedMediaType

__all__ = ["COLUMNS", "REQUIRED", "RawRow", "csv_records", "decode_text", "read_inventory"]

COLUMNS = (
    "object_id",
    "class_code",
    "name",
    "state",
    "lon",
    "lat",
    "grid_code",
    "street_code",
    "community_code",
    "owner_unit",
    "maintainer_unit",
    "competent_department",
    "installed_on",
    "changed_on",
    "source",
    "note",
)
REQUIRED = ("object_id", "class_code", "lon", "lat")
MEDIA_TYPES = {"text/csv": "csv", "application/geo+json": "geojson", "application/json": "geojson"}


@dataclass
class RawRow:
    base: str  # "rows/12" or "features/11/properties"
    values: dict[str, Any]
    places: dict[str, str] = field(default_factory=dict)  # field → pointer, where not base/field

    def at(self, name: str) -> str:
        return self.places.get(name) or f"{self.base}/{name}"


def read_inventory(data: bytes, media_type: str) -> tuple[str, list[RawRow], list[FieldProblem]]:
    """The file's format, its rows, and the problems of its shape (header, structure)."""
    fmt = MEDIA_TYPES.get(media_type.split(";", 1)[0].strip().lower())
    if fmt is None:
        raise UnsupportedMediaType(
            f"send the inventory as {', '.join(MEDIA_TYPES)}, not {media_type or 'no Content-Type'}"
        )
    rows, problems = _csv(data) if fmt == "csv" else _geojson(data)
    return fmt, rows, problems


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM allowed), else GB18030: spreadsheets saved as CSV on Chinese Windows."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # spreadsheets saved as CSV on Chinese Windows


def csv_records(
    data: bytes, columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[tuple[str, dict[str, str]]], list[FieldProblem]]:
    """A CSV table with a header row: (``rows/N``, column → stripped cell) for each non-blank row
    (N is the spreadsheet row: the header is row 1), and every problem of the header and rows.
    Cells of unknown columns are dropped; empty cells are kept as ``""``."""
    try:
        text = decode_text(data)
    except UnicodeDecodeError:
        return [], [FieldProblem("file", "must be UTF-8 (or GB18030) text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    problems = [
        FieldProblem(f"header/{name}", "is not a column; the columns are " + ", ".join(columns), name)
        for name in header
        if name not in columns
    ]
    problems += [
        FieldProblem("header", f"must have the column {name}", header)
        for name in required
        if name not in header
    ]
    problems += [
        FieldProblem(f"header/{name}", "must appear once", name)
        for name in sorted(set(header))
        if header.count(name) > 1
    ]
    records: list[tuple[str, dict[str, str]]] = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines, often at the end
        if len(record) != len(header):
            problems.append(FieldProblem(f"rows/{number}", f"must have {len(header)} cells", len(record)))
            continue
        cells = {h: cell.strip() for h, cell in zip(header, record, strict=True) if h in columns}
        records.append((f"rows/{number}", cells))
    return records, problems


def _csv(data: bytes) -> tuple[list[RawRow], list[FieldProblem]]:
    records, problems = csv_records(data, COLUMNS, REQUIRED)
    return [RawRow(at, {k: v for k, v in cells.items() if v}) for at, cells in records], problems


def _geojson(data: bytes) -> tuple[list[RawRow], list[FieldProblem]]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return [], [FieldProblem("file", "must be a JSON document")]
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        return [], [FieldProblem("type", 'must be a GeoJSON "FeatureCollection" with a "features" list')]
    rows: list[RawRow] = []
    problems: list[FieldProblem] = []
    for i, feature in enumerate(doc["features"]):
        base = f"features/{i}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(FieldProblem(base, 'must be a GeoJSON "Feature"'))
            continue
        props = feature.get("properties")
        if not isinstance(props, dict):
            problems.append(FieldProblem(f"{base}/properties", "must be an object"))
            continue
        for name in props:
            if name not in COLUMNS or name in ("lon", "lat"):
                rule = (
                    "is not a property; the position is the Point geometry"
                    if name in ("lon", "lat")
                    else (
                        "is not a property; the properties are "
                        + ", ".join(c for c in COLUMNS if c not in ("lon", "lat"))
                    )
                )
                problems.append(FieldProblem(f"{base}/properties/{name}", rule, name))
        values = {
            k: v for k, v in props.items() if k in COLUMNS and k not in ("lon", "lat") and v not in (None, "")
        }
        where = f"{base}/geometry/coordinates"
        geometry = feature.get("geometry")
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if not (isinstance(geometry, dict) and geometry.get("type") == "Point" and isinstance(coords, list)):
            problems.append(FieldProblem(f"{base}/geometry", 'must be a "Point" with [lon, lat] coordinates'))
            continue
        if len(coords) not in (2, 3):
            problems.append(FieldProblem(where, "must be [lon, lat]", coords))
            continue
        values["lon"], values["lat"] = coords[0], coords[1]
        rows.append(RawRow(f"{base}/properties", values, {"lon": f"{where}/0", "lat": f"{where}/1"}))
    return rows, problems
