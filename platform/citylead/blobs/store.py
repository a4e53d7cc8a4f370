"""The blob store interface and the one factory that picks the configured store."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from citylead.settings import Settings

__all__ = ["BlobStore", "blob_store"]


@runtime_checkable
class BlobStore(Protocol):
    """Bytes by key. Keys pass :func:`citylead.blobs.check_key`; writes are atomic (a reader sees
    the old object or the new one, never part of one); ``delete`` of a missing key is a no-op."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The object's bytes; NotFound if there is none."""
        ...

    async def delete(self, key: str) -> None: ...


def blob_store(settings: Settings) -> BlobStore:
    """``CITYLEAD_BLOB_STORE=local``: a directory (``settings.blob_dir``); ``s3``: the bucket."""
    from citylead.blobs.local import LocalBlobStore
    from citylead.blobs.s3 import S3BlobStore

    if settings.blobs.blob_store == "s3":
        return S3BlobStore.from_settings(settings.blobs)
    return LocalBlobStore(settings.blob_dir)
