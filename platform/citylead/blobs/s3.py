"""Photos in an S3-compatible bucket (Amazon S3, MinIO, Aliyun OSS, Tencent COS) through boto3.

boto3 is synchronous: every call runs in a worker thread (``anyio.to_thread``); one client is
shared, which boto3 allows across threads. Nothing is created at runtime: the bucket must exist
(provisioning makes it); a missing bucket, wrong credentials or an unreachable endpoint is a
ServiceUnavailable (503) that says which.

Addressing: Aliyun OSS and Tencent COS accept only virtual-hosted style (``bucket.host``); MinIO
and most self-hosted stores expect path style (``host/bucket``). The style follows the endpoint's
host (see :func:`addressing_style`). Checksums are sent only where the API requires them: boto3's
default CRC32 trailers are refused by several S3-compatible stores.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from pydantic import SecretStr

from citylead.blobs.keys import check_key
from citylead.settings import BlobSettings
from tenants.errors import NotFound, ServiceUnavailable

__all__ = ["S3BlobStore", "addressing_style"]

_VIRTUAL_ONLY = (".aliyuncs.com", ".myqcloud.com", ".amazonaws.com")
_MISSING_OBJECT = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Forbidden"}


def addressing_style(endpoint_url: str | None) -> str:
    """``virtual`` for Amazon S3 and the Chinese clouds that require it, ``path`` for the rest."""
    if endpoint_url is None:
        return "virtual"
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return "virtual" if host.endswith(_VIRTUAL_ONLY) else "path"


class S3BlobStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r})"

    @classmethod
    def from_settings(cls, blobs: BlobSettings) -> S3BlobStore:
        if not blobs.s3_bucket:
            raise ValueError("CITYLEAD_S3_BUCKET is required when CITYLEAD_BLOB_STORE=s3")
        config = Config(
            s3={"addressing_style": addressing_style(blobs.s3_endpoint_url)},
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=blobs.s3_endpoint_url,
            region_name=blobs.s3_region,
            aws_access_key_id=_secret(blobs.s3_access_key_id),
            aws_secret_access_key=_secret(blobs.s3_secret_access_key),
            config=config,
        )
        return cls(client, blobs.s3_bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        key = check_key(key)
        args = {"Bucket": self.bucket, "Key": key, "Body": data, "ContentType": content_type}
        await self._call(key, lambda: self.client.put_object(**args))

    async def get(self, key: str) -> bytes:
        key = check_key(key)

        def read() -> bytes:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

        result: bytes = await self._call(key, read)
        return result

    async def delete(self, key: str) -> None:
        key = check_key(key)
        await self._call(key, lambda: self.client.delete_object(Bucket=self.bucket, Key=key))

    async def check(self) -> None:
        """Readiness: the bucket exists and the credentials may use it."""
        await self._call(None, lambda: self.client.head_bucket(Bucket=self.bucket))

    async def _call(self, key: str | None, fn: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if key is not None and code in _MISSING_OBJECT:
                raise NotFound(f"no blob {key}") from None
            raise self._unavailable(code) from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable(f"the photo store cannot be reached: {exc}") from exc

    def _unavailable(self, code: str) -> ServiceUnavailable:
        if code in ("NoSuchBucket", "404", "NotFound"):
            return ServiceUnavailable(
                f"the photo store bucket {self.bucket!r} does not exist; create it (citylead never "
                "creates buckets) or fix CITYLEAD_S3_BUCKET"
            )
        if code in _DENIED:
            return ServiceUnavailable(
                f"the photo store refused access to bucket {self.bucket!r} ({code}); check "
                "CITYLEAD_S3_ACCESS_KEY_ID, CITYLEAD_S3_SECRET_ACCESS_KEY and the bucket policy"
            )
        return ServiceUnavailable(f"the photo store failed ({code or 'unknown error'})")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
