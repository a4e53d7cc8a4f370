"""Case photos: what ``check_photo`` accepts, how keys are named, and both blob stores.

The S3 store is tested against moto's ThreadedMotoServer over real HTTP: a fake S3, because no
S3-compatible server (MinIO, OSS, COS) can run on the test machines. It exercises boto3's real
request signing, addressing and error responses, not the semantics of any particular vendor.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import socket
import struct
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from citylead.blobs import LocalBlobStore, S3BlobStore, blob_store, check_key, check_photo, photo_key
from citylead.blobs.s3 import addressing_style
from citylead.settings import BlobSettings, Settings
from tenants.errors import InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType

MB = 1024 * 1024


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A few hundred bytes that claim ``width``×``height`` pixels: a decompression bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


# --- check_photo ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "ext"),
    [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"), ("WEBP", "image/webp", "webp")],
)
def test_accepts_jpeg_png_webp_with_their_facts(fmt: str, content_type: str, ext: str) -> None:
    data = image_bytes(fmt, (64, 48))
    photo = check_photo(data, content_type, max_bytes=MB)
    assert photo.content_type == content_type
    assert photo.ext == ext
    assert (photo.width, photo.height) == (64, 48)
    assert photo.size == len(data)
    assert photo.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("declared", ["image/png", "image/jpg", "application/octet-stream", None, ""])
def test_the_bytes_decide_not_the_declared_type(declared: str | None) -> None:
    photo = check_photo(image_bytes("JPEG"), declared, max_bytes=MB)
    assert (photo.content_type, photo.ext) == ("image/jpeg", "jpg")


def test_too_large_is_413_and_says_the_limit_in_mb() -> None:
    data = image_bytes("PNG") + b"\0" * (2 * MB)
    with pytest.raises(PayloadTooLarge) as caught:
        check_photo(data, "image/png", max_bytes=2 * MB)
    assert caught.value.status == 413
    assert "the limit is 2 MB" in caught.value.detail
    assert caught.value.extra["limit"] == 2 * MB


def test_exactly_the_limit_is_accepted() -> None:
    data = image_bytes("PNG")
    assert check_photo(data, "image/png", max_bytes=len(data)).size == len(data)


@pytest.mark.parametrize(
    ("data", "declared", "found"),
    [
        (image_bytes("GIF"), "image/gif", "GIF"),
        (image_bytes("BMP"), "image/jpeg", "BMP"),
        (b"\0\0\0\x18ftypheic" + b"\0" * 64, "image/heic", "HEIC"),
        (b"%PDF-1.7\n", "image/jpeg", "PDF"),
        (b"", None, "empty"),
    ],
    ids=["gif", "bmp-declared-jpeg", "heic", "pdf", "empty"],
)
def test_other_kinds_are_415_naming_declared_and_found(data: bytes, declared: str | None, found: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        check_photo(data, declared, max_bytes=MB)
    assert caught.value.status == 415
    detail = caught.value.detail
    assert f"declared {declared or 'nothing'}" in detail
    assert found in detail
    assert "image/jpeg, image/png, image/webp" in detail


@pytest.mark.parametrize("offset", [38, 45], ids=["chunk-type", "chunk-data"])
def test_a_damaged_png_is_415(offset: int) -> None:
    data = bytearray(image_bytes("PNG", (32, 32)))
    data[offset] ^= 0xFF  # in the IDAT chunk's type or data: the CRC no longer matches
    with pytest.raises(UnsupportedMediaType, match="sent a damaged PNG image"):
        check_photo(bytes(data), "image/png", max_bytes=MB)


def test_a_truncated_png_is_415() -> None:
    data = image_bytes("PNG", (32, 32))
    with pytest.raises(UnsupportedMediaType, match="damaged PNG"):
        check_photo(data[: len(data) // 2], "image/png", max_bytes=MB)


@pytest.mark.parametrize("side", [9_000, 20_000], ids=["81MP-our-limit", "400MP-pillow-limit"])
def test_a_decompression_bomb_is_refused_before_decoding(side: int) -> None:
    with pytest.raises(PayloadTooLarge, match="80 megapixels"):
        check_photo(png_bomb(side, side), "image/png", max_bytes=MB)


# --- keys ----------------------------------------------------------------------------------------


def test_photo_key_is_content_addressed() -> None:
    tenant, case = uuid.uuid4(), uuid.uuid4()
    photo = check_photo(image_bytes("WEBP"), "image/webp", max_bytes=MB)
    assert photo_key(tenant, case, photo) == f"{tenant}/{case}/{photo.sha256}.webp"
    again = check_photo(image_bytes("WEBP"), None, max_bytes=MB)
    assert photo_key(tenant, case, again) == photo_key(tenant, case, photo)


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "a/../../b",
        "/abs/path",
        "a//b",
        "a/./b",
        ".hidden",
        "a/",
        "",
        "a\\b",
        "a b",
        "x" * 513,
    ],
)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_key(key)
    assert caught.value.errors[0].field == "key"


def test_ordinary_keys_pass() -> None:
    assert check_key("t/c/ab12.jpg") == "t/c/ab12.jpg"
    assert check_key("320411-2026-000001/photo_1.v2.png") == "320411-2026-000001/photo_1.v2.png"


# --- the local store -----------------------------------------------------------------------------


async def test_local_round_trip_and_idempotent_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    await store.put("t/c/a.jpg", b"one", "image/jpeg")
    assert await store.get("t/c/a.jpg") == b"one"
    assert (tmp_path / "blobs" / "t" / "c" / "a.jpg").read_bytes() == b"one"
    await store.put("t/c/a.jpg", b"two", "image/jpeg")
    assert await store.get("t/c/a.jpg") == b"two"
    await store.delete("t/c/a.jpg")
    with pytest.raises(NotFound):
        await store.get("t/c/a.jpg")
    await store.delete("t/c/a.jpg")  # deleting what is gone is not an error


async def test_local_missing_key_is_not_found(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(NotFound, match=r"no blob t/none\.png"):
        await store.get("t/none.png")
    await store.put("t/dir/x.png", b"x", "image/png")
    with pytest.raises(NotFound):
        await store.get("t/dir")  # a directory is not a blob


async def test_local_refuses_traversal_and_symlink_escape(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    root.mkdir()
    (root / "link").symlink_to(outside)
    store = LocalBlobStore(root)
    with pytest.raises(InvalidInput):
        await store.get("../outside/secret.txt")
    with pytest.raises(NotFound):
        await store.get("link/secret.txt")
    with pytest.raises(NotFound):
        await store.put("link/planted.txt", b"x", "text/plain")
    assert not (outside / "planted.txt").exists()


async def test_local_failed_write_keeps_the_old_object_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put("t/c/a.png", b"old", "image/png")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("citylead.blobs.local.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put("t/c/a.png", b"new", "image/png")
    monkeypatch.undo()
    assert await store.get("t/c/a.png") == b"old"
    assert sorted(p.name for p in (tmp_path / "t" / "c").iterdir()) == ["a.png"]


async def test_local_readers_never_see_a_partial_write(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    versions = [bytes([n]) * (256 * 1024) for n in range(8)]
    await store.put("t/c/big.jpg", versions[0], "image/jpeg")
    seen: set[bytes] = set()

    async def read_many() -> None:
        for _ in range(40):
            seen.add(await store.get("t/c/big.jpg"))

    await asyncio.gather(read_many(), *(store.put("t/c/big.jpg", v, "image/jpeg") for v in versions[1:]))
    assert seen <= set(versions)
    assert not [p for p in (tmp_path / "t" / "c").iterdir() if p.name != "big.jpg"]


def test_the_factory_picks_the_local_store_by_default(tmp_path: Path) -> None:
    settings = Settings()
    settings.blobs = BlobSettings(blob_store="local", blob_dir=tmp_path / "photos")
    store = blob_store(settings)
    assert isinstance(store, LocalBlobStore)
    assert store.root == (tmp_path / "photos").resolve()


# --- the S3 store against moto over HTTP ---------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str, bucket: str) -> BlobSettings:
    return BlobSettings(
        blob_store="s3",
        s3_endpoint_url=endpoint,
        s3_bucket=bucket,
        s3_region="us-east-1",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str) -> str:
    """Provisioning creates the bucket; the store never does."""
    name = f"photos-{uuid.uuid4().hex[:8]}"
    admin = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    admin.create_bucket(Bucket=name)
    return name


async def test_s3_round_trip_keeps_the_content_type(s3_endpoint: str, bucket: str) -> None:
    settings = Settings()
    settings.blobs = s3_settings(s3_endpoint, bucket)
    store = blob_store(settings)
    assert isinstance(store, S3BlobStore)
    data = image_bytes("JPEG")
    photo = check_photo(data, None, max_bytes=MB)
    key = photo_key(uuid.uuid4(), uuid.uuid4(), photo)
    await store.put(key, data, photo.content_type)
    assert await store.get(key) == data
    head = store.client.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == len(data)
    await store.check()
    await store.delete(key)
    with pytest.raises(NotFound):
        await store.get(key)
    await store.delete(key)


async def test_s3_missing_key_is_not_found(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_settings(s3_settings(s3_endpoint, bucket))
    with pytest.raises(NotFound, match=r"no blob t/c/none\.png"):
        await store.get("t/c/none.png")


async def test_s3_missing_bucket_is_a_clear_503_and_nothing_is_created(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_settings(s3_settings(s3_endpoint, "no-such-bucket"))
    with pytest.raises(ServiceUnavailable, match="'no-such-bucket' does not exist") as caught:
        await store.put("t/c/a.png", b"x", "image/png")
    assert caught.value.status == 503
    with pytest.raises(ServiceUnavailable, match="does not exist"):
        await store.get("t/c/a.png")
    with pytest.raises(ServiceUnavailable, match="does not exist"):
        await store.check()
    names = [b["Name"] for b in store.client.list_buckets()["Buckets"]]
    assert "no-such-bucket" not in names
    assert bucket in names


async def test_s3_unreachable_endpoint_is_503() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = S3BlobStore.from_settings(s3_settings(f"http://127.0.0.1:{port}", "photos"))
    with pytest.raises(ServiceUnavailable, match="cannot be reached"):
        await store.get("t/c/a.png")


async def test_s3_validates_keys_before_any_request(s3_endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_settings(s3_settings(s3_endpoint, bucket))
    with pytest.raises(InvalidInput):
        await store.put("../x.png", b"x", "image/png")


@pytest.mark.parametrize(
    ("endpoint", "style"),
    [
        ("https://oss-cn-hangzhou.aliyuncs.com", "virtual"),
        ("https://cos.ap-shanghai.myqcloud.com", "virtual"),
        (None, "virtual"),
        ("http://minio.internal:9000", "path"),
        ("http://127.0.0.1:9000", "path"),
    ],
)
def test_addressing_style_follows_the_endpoint(endpoint: str | None, style: str) -> None:
    assert addressing_style(endpoint) == style
