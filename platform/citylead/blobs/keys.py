"""Blob keys: slash-separated, relative, no ``..``; photos are named by their content."""

from __future__ import annotations

import re
import uuid

from citylead.blobs.photos import Photo
from tenants.errors import FieldProblem, InvalidInput

__all__ = ["check_key", "photo_key"]

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_KEY = 512


def check_key(key: str) -> str:
    """``key`` if it is safe for every store: relative, segments that start with a letter or digit
    (so never ``.``, ``..`` or a hidden file), no empty segment, no backslash; else InvalidInput."""
    segments = key.split("/")
    if len(key) > MAX_KEY or not all(_SEGMENT.match(s) and ".." not in s for s in segments):
        raise InvalidInput(
            f"not a blob key: {key[:80]!r}",
            errors=[
                FieldProblem(
                    "key",
                    "relative path of segments [A-Za-z0-9][A-Za-z0-9._-]*, no '..', "
                    f"at most {MAX_KEY} characters",
                    key[:80],
                )
            ],
        )
    return key


def photo_key(tenant_id: uuid.UUID | str, case_id: uuid.UUID | str, photo: Photo) -> str:
    """``{tenant_id}/{case_id}/{sha256}.{ext}``: content-addressed, so storing the same photo twice
    writes the same object, and a key never points at different bytes."""
    return check_key(f"{tenant_id}/{case_id}/{photo.sha256}.{photo.ext}")
