"""The periodic scheduler (定时任务): sends each ``every(seconds, name)`` job once per interval.

Every worker process runs a scheduler, but only the one holding a PostgreSQL advisory lock sends;
the others try to take the lock every few seconds. The lock is held by a dedicated connection, so
it is released when the leader stops or its process dies, and another scheduler takes over.
A new leader sends each job one interval after taking the lock (no burst on restart or failover).

Periodic messages do not go through the outbox (they belong to no tenant): their only payload is
``scheduled_at`` (ISO 8601, UTC), which a job may use to recognise a repeated run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
import dramatiq

from citylead.db.roles import to_asyncpg
from citylead.jobs.registry import Periodic

__all__ = ["LOCK_NAME", "Scheduler"]

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('citylead'), hashtext($1))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext('citylead'), hashtext($1))"


class Scheduler:
    """Sends ``periodic`` jobs to ``broker`` while it holds the advisory lock ``lock_name``."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        periodic: Sequence[Periodic],
        *,
        lock_url: str,
        lock_name: str = LOCK_NAME,
        retry_seconds: float = 5.0,
    ) -> None:
        self.broker = broker
        self.periodic = list(periodic)
        self.lock_url = to_asyncpg(lock_url)
        self.lock_name = lock_name
        self.retry_seconds = min([retry_seconds, *(p.seconds for p in self.periodic)])
        self.is_leader = False
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        while self.periodic and not stop.is_set():
            conn = await self._acquire()
            if conn is None:
                await _wait(stop, self.retry_seconds)
                continue
            try:
                self.is_leader = True
                log.info("scheduler: this process sends the periodic jobs")
                await self._lead(conn, stop)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("scheduler lost its lock connection (%s); trying again", exc)
            finally:
                self.is_leader = False
                await self._release(conn)

    async def _acquire(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(self.lock_url)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("scheduler cannot connect (%s)", exc)
            return None
        try:
            if await conn.fetchval(_TRY_LOCK, self.lock_name):
                return conn
        except asyncpg.PostgresError:
            log.exception("scheduler cannot try its lock")
        await conn.close()
        return None

    async def _release(self, conn: asyncpg.Connection) -> None:
        if conn.is_closed():
            return
        try:
            await conn.fetchval(_UNLOCK, self.lock_name)
        finally:
            await conn.close()

    async def _lead(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        due = {p.name: loop.time() + p.seconds for p in self.periodic}
        while not stop.is_set():
            await _wait(stop, max(0.0, min(due.values()) - loop.time()))
            if stop.is_set():
                return
            await conn.fetchval("SELECT 1")  # still connected, so still holding the lock
            now = loop.time()
            for p in self.periodic:
                if due[p.name] <= now:
                    self._send(p)
                    # The next slot; after a stall, skip missed slots instead of sending a burst.
                    nxt = due[p.name] + p.seconds
                    due[p.name] = nxt if nxt > now else now + p.seconds

    def _send(self, p: Periodic) -> None:
        try:
            actor = self.broker.get_actor(p.name)
            message = actor.message_with_options(kwargs={"scheduled_at": datetime.now(UTC).isoformat()})
            self.broker.enqueue(message)
            self.sent += 1
        except Exception:
            log.exception("scheduler could not send %s", p.name)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
