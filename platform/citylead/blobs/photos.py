"""What a photo is, decided by its bytes: JPEG, PNG or WebP, within the size limit.

Clients often declare the wrong type (``image/jpg``, ``application/octet-stream``, nothing at
all), so the declared type is only reported, never trusted. Pillow reads the header and
``verify()`` checks the structure without decoding the pixels, so a check costs milliseconds.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from tenants.errors import PayloadTooLarge, UnsupportedMediaType

__all__ = ["MAX_PIXELS", "Photo", "check_photo"]

# Pillow format → (content type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# Phones save 12–50 megapixels by default (a 200 MP full-resolution JPEG is over any sane size limit
# anyway); more pixels than this in a few megabytes is a decompression bomb, not a photo. Below
# Pillow's own warning threshold (~89 MP), so Pillow never warns first.
MAX_PIXELS = 80_000_000


@dataclass(frozen=True)
class Photo:
    content_type: str  # from the bytes: image/jpeg, image/png or image/webp
    ext: str  # jpg, png or webp
    width: int
    height: int
    size: int  # bytes
    sha256: str  # hex digest of the bytes: the photo's name in the store


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def check_photo(data: bytes, declared_type: str | None, *, max_bytes: int) -> Photo:
    """The photo ``data`` is, or PayloadTooLarge (413) / UnsupportedMediaType (415)."""
    declared = (declared_type or "").split(";", 1)[0].strip().lower() or "nothing"
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the photo is {_mb(len(data))} MB; the limit is {_mb(max_bytes)} MB",
            size=len(data),
            limit=max_bytes,
        )
    accepted = ", ".join(sorted(t for t, _ in FORMATS.values()))
    fmt = ""
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            fmt, (width, height) = image.format or "", image.size
            if width * height > MAX_PIXELS:
                raise PayloadTooLarge(
                    f"the photo has {width}×{height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels "
                    "are accepted"
                )
            image.verify()
    except Image.DecompressionBombError:
        raise PayloadTooLarge(f"the photo has more than {MAX_PIXELS // 1_000_000} megapixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        kind = fmt or _sniff(data)
        found = f"a damaged {kind} image" if kind in FORMATS else f"bytes of another kind ({kind})"
        raise UnsupportedMediaType(
            f"a photo must be {accepted}; the request declared {declared} and sent {found}",
            declared=declared,
            accepted=sorted(t for t, _ in FORMATS.values()),
        ) from None
    content_type, ext = FORMATS[fmt]
    return Photo(
        content_type=content_type,
        ext=ext,
        width=width,
        height=height,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


_MAGIC = [
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"PK\x03\x04", "ZIP"),
]


def _sniff(data: bytes) -> str:
    """A name for what the bytes are, for the error message only."""
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "HEIC"
    if data[4:12] == b"ftypavif":
        return "AVIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return "unknown" if data else "empty"
