"""Writing an archive's members: each one streamed into the zip while its size, rows and SHA-256
are counted. CSVs are UTF-8 with a BOM (so Excel opens Chinese text correctly), JSON is UTF-8."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

__all__ = ["Archive", "ArchiveFile", "CsvMember", "Member", "cell", "to_json"]

BOM = "\ufeff"
FLUSH_ROWS = 500


@dataclass(frozen=True)
class ArchiveFile:
    """One file of the archive, as the manifest lists it."""

    name: str
    rows: int  # CSV/JSONL rows, GeoJSON features, standards versions; 0 for a photo
    bytes: int
    sha256: str


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON with Chinese kept readable; datetimes ISO 8601, UUIDs and decimals as strings."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(value, ensure_ascii=False, default=_plain, indent=indent, separators=separators)


def cell(value: Any) -> str:
    """A CSV cell: empty for None, ``true``/``false``, ISO 8601 times, JSON for lists and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return to_json(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


class Archive:
    """The zip being written, its members stamped with the export's time (local, as zip keeps it)."""

    def __init__(self, zip_file: zipfile.ZipFile, stamp: datetime) -> None:
        self.zip_file = zip_file
        self.stamp = stamp

    def member(self, name: str) -> Member:
        return Member(self, name)

    def csv(self, name: str, header: Sequence[str]) -> CsvMember:
        return CsvMember(self, name, header)


class Member:
    """One file being written into the zip (only one may be open at a time)."""

    def __init__(self, archive: Archive, name: str) -> None:
        self.name = name
        self.rows = 0
        self._size = 0
        self._hash = hashlib.sha256()
        info = zipfile.ZipInfo(name, date_time=archive.stamp.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        self._stream: IO[bytes] = archive.zip_file.open(info, "w", force_zip64=True)

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._size += len(data)
        self._stream.write(data)

    def text(self, data: str) -> None:
        self.write(data.encode("utf-8"))

    def close(self) -> ArchiveFile:
        self._stream.close()
        return ArchiveFile(self.name, self.rows, self._size, self._hash.hexdigest())


class CsvMember(Member):
    """A CSV file: BOM, header, then rows, buffered a few hundred at a time."""

    def __init__(self, archive: Archive, name: str, header: Sequence[str]) -> None:
        super().__init__(archive, name)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._buffer.write(BOM)
        self._writer.writerow(header)
        self._pending = 0

    def row(self, values: Sequence[Any]) -> None:
        self._writer.writerow([cell(v) for v in values])
        self.rows += 1
        self._pending += 1
        if self._pending >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        self.text(self._buffer.getvalue())
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pending = 0

    def close(self) -> ArchiveFile:
        self._flush()
        return super().close()
