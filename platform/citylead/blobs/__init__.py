"""Case photos (案卷照片): checked by their bytes, stored content-addressed in a blob store.

``check_photo`` decides what a photo is (JPEG, PNG or WebP, whatever the client declared);
``photo_key`` names it by tenant, case and SHA-256; ``blob_store(settings)`` is the store the
deployment configured: a local directory (one machine) or an S3-compatible bucket (MinIO, OSS, COS).
"""

from citylead.blobs.keys import check_key, photo_key
from citylead.blobs.local import LocalBlobStore
from citylead.blobs.photos import Photo, check_photo
from citylead.blobs.s3 import S3BlobStore
from citylead.blobs.store import BlobStore, blob_store

__all__ = [
    "BlobStore",
    "LocalBlobStore",
    "Photo",
    "S3BlobStore",
    "blob_store",
    "check_key",
    "check_photo",
    "photo_key",
]
