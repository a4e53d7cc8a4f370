"""A lean load generator, run as its own process: ``python -m tests.benchmarks.loadgen SPEC OUT``.

``http``: N keep-alive HTTP/1.1 connections (raw asyncio streams on uvloop, no HTTP library),
each sending ``POST /api/v1/intake/hotline`` back to back for ``seconds``; request ``k`` files
the (point, class) :func:`pair` gives, with ``Idempotency-Key: {prefix}-{k}``: no two requests
share a key, and two of the same class are at least the lattice spacing apart.

``sql``: the baseline. N asyncpg connections as the application role, each in a loop: one
transaction that enters the county's context and inserts the rows a filing writes (case, event,
idempotency key, outbox message) with prepared statements.

Writes a JSON summary: completed, seconds, per status, latency percentiles, own CPU seconds.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

DESCRIPTION = "市民来电：路边问题需处理（压测）"


def pair(k: int, points: int, classes: int) -> tuple[int, int]:
    """Request ``k``'s (point, class): every point in turn, the class shifting by one each round,
    so consecutive requests spread over points and classes and no pair repeats for k < P·C."""
    p = k % points
    return p, (p + k // points) % classes


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Feed:
    """Hands out request numbers ``offset, offset+1, …`` until the deadline or ``limit``."""

    def __init__(self, offset: int, limit: int) -> None:
        self.next, self.end = offset, offset + limit
        self.deadline = 0.0
        self.exhausted = False

    def take(self) -> int | None:
        if time.perf_counter() >= self.deadline:
            return None
        if self.next >= self.end:
            self.exhausted = True
            return None
        k, self.next = self.next, self.next + 1
        return k


class Results:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.samples: dict[str, str] = {}
        self.last_done = 0.0

    def add(self, status: str, seconds: float, body: bytes = b"") -> None:
        self.latencies.append(seconds)
        self.statuses[status] += 1
        if status not in ("201",) and status not in self.samples:
            self.samples[status] = body[:3000].decode(errors="replace")
        self.last_done = time.perf_counter()


# -- HTTP --------------------------------------------------------------------------------------


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and "close" in value.lower():
            close = True
    if not chunked:
        return status, await reader.readexactly(length), close
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body, close
        body += chunk[:-2]


async def run_http(spec: dict[str, Any]) -> dict[str, Any]:
    host, port, classes, points = spec["host"], spec["port"], spec["classes"], spec["points"]
    head = (
        f"POST /api/v1/intake/hotline HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {spec['token']}\r\nContent-Type: application/json\r\n"
        "Content-Length: {length}\r\nIdempotency-Key: {key}\r\n\r\n"
    )
    prefix, n_points, n_classes = spec["key_prefix"], len(points), len(classes)
    feed, results = Feed(spec["offset"], spec["limit"]), Results()

    def request(k: int) -> bytes:
        p, c = pair(k, n_points, n_classes)
        lon, lat = points[p]
        body = json.dumps(
            {
                "hotline": "12345",
                "kind": "matter",
                "code": classes[c],
                "lon": lon,
                "lat": lat,
                "description": DESCRIPTION,
                "ticket": f"{prefix}-{k}",
            },
            ensure_ascii=False,
        ).encode()
        return head.format(length=len(body), key=f"{prefix}-{k}").encode() + body

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(host, port)

    conns = []
    for _ in range(spec["concurrency"]):  # a few ms apart, so several server workers get some
        conns.append(await connect())
        await asyncio.sleep(0.005)

    async def client(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        reader, writer = conn
        while (k := feed.take()) is not None:
            t0 = time.perf_counter()
            try:
                writer.write(request(k))
                status, body, close = await _response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                results.add(f"error:{type(exc).__name__}", time.perf_counter() - t0, str(exc).encode())
                writer.close()
                reader, writer = await connect()
                continue
            results.add(str(status), time.perf_counter() - t0, body)
            if close:
                writer.close()
                reader, writer = await connect()
        writer.close()

    return await _timed(spec, feed, results, [client(c) for c in conns])


# -- SQL baseline ------------------------------------------------------------------------------

CASE = """
INSERT INTO cases (tenant_id, id, number, kind, class_code, class_name, urgency, source, description,
    lon, lat, grid_code, street_code, community_code, reporter, external_id, state, standards, limits,
    command_tenant_id, suggestion, reported_by, reported_at, updated_at)
VALUES ($1, $2, $3 || lpad(nextval('case_number_seq')::text, 7, '0'), 'matter', $4, $5, 'normal',
    'hotline_12345', $6, $7, $8, $9, $10, $11, $12::jsonb, $13, 'reported', $14::jsonb, $15::jsonb,
    $1, $16::jsonb, $17, now(), now())
"""
EVENT = """
INSERT INTO case_events (tenant_id, case_id, seq, at, actor, action, from_state, to_state, reason, data)
VALUES ($1, $2, 1, now(), $3, 'report', NULL, 'reported', $4, $5::jsonb)
"""
KEY = "INSERT INTO intake_keys (tenant_id, client, key, request_hash, case_id) VALUES ($1, $2, $3, $4, $5)"
OUTBOX = (
    "INSERT INTO outbox (tenant_id, actor, queue, payload) "
    "VALUES ($1, 'notifications.send', 'default', $2::jsonb)"
)


async def run_sql(spec: dict[str, Any]) -> dict[str, Any]:
    import asyncpg

    t = spec["template"]
    tenants: dict[str, tuple[str, str]] = spec["tenants"]  # county code → (id, path)
    points, prefix = spec["points"], spec["key_prefix"]
    feed, results = Feed(spec["offset"], spec["limit"]), Results()
    conns = [await asyncpg.connect(spec["dsn"]) for _ in range(spec["concurrency"])]

    async def client(conn: Any) -> None:
        enter = await conn.prepare("SELECT citylead_enter($1)")
        case, event, key, outbox = [await conn.prepare(q) for q in (CASE, EVENT, KEY, OUTBOX)]
        while (k := feed.take()) is not None:
            county, lon, lat = points[k % len(points)]
            tenant_id, path = tenants[county]
            case_id = uuid.uuid4()
            payload = {**t["payload"], "tenant_id": tenant_id, "tenant_path": path, "case_id": str(case_id)}
            t0 = time.perf_counter()
            try:
                async with conn.transaction():
                    await enter.fetchval(path)
                    await case.fetch(
                        tenant_id, case_id, f"{county}-{t['day']}-", t["class_code"], t["class_name"],
                        DESCRIPTION, lon, lat, t["grid_code"], t["street_code"], t["community_code"],
                        t["reporter"], f"{prefix}-{k}", t["standards"], t["limits"], t["suggestion"],
                        t["actor"],
                    )  # fmt: skip
                    await event.fetch(tenant_id, case_id, t["actor"], t["reason"], t["event_data"])
                    await key.fetch(tenant_id, t["actor"], f"{prefix}-{k}", t["request_hash"], case_id)
                    await outbox.fetch(tenant_id, json.dumps(payload, ensure_ascii=False))
            except Exception as exc:  # counted and reported, the run goes on
                results.add(f"error:{type(exc).__name__}", time.perf_counter() - t0, str(exc).encode())
                continue
            results.add("201", time.perf_counter() - t0)
        await conn.close()

    return await _timed(spec, feed, results, [client(c) for c in conns])


async def _timed(spec: dict[str, Any], feed: Feed, results: Results, clients: list[Any]) -> dict[str, Any]:
    cpu0, start = _cpu(), time.perf_counter()
    feed.deadline = start + spec["seconds"]
    await asyncio.gather(*clients)
    end = max(results.last_done, start + 1e-9)
    cpu = _cpu() - cpu0
    lat = sorted(results.latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    return {
        "mode": spec["mode"],
        "concurrency": spec["concurrency"],
        "completed": len(lat),
        "used": feed.next - spec["offset"],
        "exhausted": feed.exhausted,
        "seconds": end - start,
        "per_second": len(lat) / (end - start),
        "statuses": dict(results.statuses),
        "samples": results.samples,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": lat[-1] * 1000 if lat else float("nan"),
        "cpu_seconds": cpu,
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    coro = run_http(spec) if spec["mode"] == "http" else run_sql(spec)
    try:
        import uvloop
    except ImportError:
        out = asyncio.run(coro)
    else:
        out = uvloop.run(coro)
    Path(sys.argv[2]).write_text(json.dumps(out), "utf-8")


if __name__ == "__main__":
    main()
