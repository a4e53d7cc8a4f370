"""The outbox relay (发件箱转发): committed outbox rows → dramatiq messages.

One pass is one transaction without a tenant context: ``citylead_outbox_claim`` locks up to
``limit`` committed, unsent rows (``FOR UPDATE SKIP LOCKED``: concurrent relays never take the
same row), each row is sent to its actor with the row's id as the message id (a repeated send is
recognisable), and ``citylead_outbox_sent`` marks the sent rows. A row that cannot be sent (broker
down, unknown actor) keeps ``sent_at`` empty, records ``last_error`` and waits before its next
try (0 s, 1 s, 3 s, 7 s … at most an hour). A crash between send and commit sends the rows again:
delivery is at least once and jobs are idempotent.

:class:`Relay` repeats passes: at once while batches are full, otherwise when the ``outbox``
insert trigger's NOTIFY arrives (sent at commit, so only for committed rows) or after
``interval`` seconds, whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import asyncpg
import dramatiq
from dramatiq.errors import ActorNotFound
from sqlalchemy import RowMapping, text

from citylead.db import Database
from citylead.db.roles import to_asyncpg

__all__ = ["CHANNEL", "Relay", "relay_once"]

log = logging.getLogger(__name__)

CHANNEL = "citylead_outbox"  # NOTIFY channel of the outbox insert trigger (migration 0008)
_CLAIM = text("SELECT * FROM citylead_outbox_claim(:limit)")
_SENT = text("SELECT citylead_outbox_sent(:ids)")
_FAILED = text("SELECT citylead_outbox_sent(:ids, :error)")


async def relay_once(db: Database, broker: dramatiq.Broker, *, limit: int = 200) -> int:
    """Send up to ``limit`` committed outbox rows in one transaction; the number sent."""
    _, sent = await _pass(db, broker, limit)
    return sent


async def _pass(db: Database, broker: dramatiq.Broker, limit: int) -> tuple[int, int]:
    """One pass: (rows claimed, rows sent)."""
    async with db.transaction(None) as session:
        rows = (await session.execute(_CLAIM, {"limit": limit})).mappings().all()
        sent: list[uuid.UUID] = []
        for row in rows:
            error = _send(broker, row)
            if error is None:
                sent.append(row["id"])
            else:
                log.warning("outbox %s (%s) not sent: %s", row["id"], row["actor"], error)
                await session.execute(_FAILED, {"ids": [row["id"]], "error": error})
        if sent:
            await session.execute(_SENT, {"ids": sent})
    return len(rows), len(sent)


def _send(broker: dramatiq.Broker, row: RowMapping) -> str | None:
    """Send one row; the error text if it could not be sent."""
    try:
        actor = broker.get_actor(row["actor"])
    except ActorNotFound:
        return f"unknown actor {row['actor']!r}: no job of that name is registered"
    if row["queue"] != actor.queue_name:
        return f"queue {row['queue']!r} is not the queue of {actor.actor_name} ({actor.queue_name!r})"
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=actor.queue_name,
        actor_name=actor.actor_name,
        args=(),
        kwargs=dict(row["payload"]),
        options={"outbox_attempt": row["attempts"] + 1},
        message_id=str(row["id"]),
    )
    try:
        broker.enqueue(message)
    except Exception as exc:  # any broker failure is recorded on the row, never raised
        return f"{type(exc).__name__}: {exc}"[:1000]
    return None


class Relay:
    """Repeats relay passes until stopped. ``listen_url`` (the app role's URL) enables the wake-up
    on commit; without it, or while that connection is down, the relay polls every ``interval``."""

    def __init__(
        self,
        db: Database,
        broker: dramatiq.Broker,
        *,
        interval: float,
        limit: int = 200,
        listen_url: str | None = None,
    ) -> None:
        self.db = db
        self.broker = broker
        self.interval = interval
        self.limit = limit
        self.listen_url = listen_url
        self.passes = 0
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._listen_retry_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                await self._ensure_listener(loop.time())
                self._wake.clear()  # a NOTIFY during the pass means: pass again
                try:
                    claimed, _ = await _pass(self.db, self.broker, self.limit)
                except Exception:
                    log.exception("outbox relay pass failed; retrying in %.1f s", self.interval)
                    claimed = 0
                self.passes += 1
                if claimed >= self.limit:
                    await asyncio.sleep(0)
                    continue
                await _first(stop.wait(), self._wake.wait(), seconds=self.interval)
        finally:
            await self._close_listener()

    async def _ensure_listener(self, now: float) -> None:
        if self.listen_url is None or now < self._listen_retry_at:
            return
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listen_retry_at = now + 5.0
        try:
            conn = await asyncpg.connect(to_asyncpg(self.listen_url))
            await conn.add_listener(CHANNEL, self._notified)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox relay cannot LISTEN (%s); polling every %.1f s", exc, self.interval)
            return
        self._listener = conn

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _close_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            await self._listener.close()
        self._listener = None


async def _first(*waits: Any, seconds: float) -> None:
    """Wait until the first of ``waits`` finishes or ``seconds`` pass; cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
