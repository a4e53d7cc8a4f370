"""The outbox relay on the REAL brokers (PostgreSQL on the test database, RabbitMQ): sent iff
committed, failures recorded and retried, unknown actors recorded, no row sent twice by two relays.

Tenants: 泰州市 姜堰区 (321204) enqueues; 合肥市 (340100) in the concurrency test.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import dramatiq
import pytest
from dramatiq.middleware import Middleware, MiddlewareError
from sqlalchemy import text

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.jobs.broker import declare
from citylead.jobs.outbox import enqueue
from citylead.jobs.registry import Registry
from citylead.jobs.relay import relay_once
from tenants.context import TenantContext
from tenants.models import Tenant
from tests.integration.jobs.conftest import QUEUE, Sent

COUNTY = "321204"
PROBE = "probe.relay"

Broker = tuple[dramatiq.Broker, Sent]


class Refuse(Middleware):
    """The broker refuses to send the given messages ``times`` times (a broker outage)."""

    def __init__(self, ids: set[str], times: int = 1) -> None:
        self.ids = ids
        self.left = dict.fromkeys(ids, times)

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: Any) -> None:
        if self.left.get(message.message_id, 0) > 0:
            self.left[message.message_id] -= 1
            raise MiddlewareError("broker refused the message")


async def _enqueue(app_db: Database, tenant: Tenant, actor: str = PROBE, **payload: Any) -> uuid.UUID:
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        message = enqueue(s, tenant, actor, queue=QUEUE, **payload)
        await s.flush()
        return message.id


async def _row(owner_db: Database, id_: uuid.UUID) -> dict[str, Any] | None:
    async with owner_db.transaction(None) as s:
        row = (
            (
                await s.execute(
                    text("SELECT sent_at, attempts, last_error, retry_at FROM outbox WHERE id = :id"),
                    {"id": id_},
                )
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


@pytest.fixture
def declared(broker: Broker, registry_with: Callable[..., Registry]) -> Broker:
    declare(broker[0], registry_with(PROBE))  # a sender only: no context, no worker
    return broker


async def test_a_committed_message_is_sent_once_with_its_payload_and_the_outbox_id(
    declared: Broker, app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    b, sent = declared
    tenant = registry[COUNTY]
    id_ = await _enqueue(app_db, tenant, case_id="c-1")

    await relay_once(app_db, b)

    assert sent.ids.count(str(id_)) == 1
    row = await _row(owner_db, id_)
    assert row is not None
    assert row["sent_at"] is not None
    assert (row["attempts"], row["last_error"]) == (1, None)
    await relay_once(app_db, b)
    assert sent.ids.count(str(id_)) == 1  # a sent row is never claimed again


async def test_a_rolled_back_message_is_never_sent(
    declared: Broker, app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    b, sent = declared
    tenant = registry[COUNTY]
    ids: list[uuid.UUID] = []

    async def failing_action() -> None:
        async with app_db.transaction(TenantContext(tenant.path)) as s:
            message = enqueue(s, tenant, PROBE, queue=QUEUE, case_id="c-2")
            await s.flush()
            ids.append(message.id)
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError, match="the action failed"):
        await failing_action()

    await relay_once(app_db, b)

    assert str(ids[0]) not in sent.ids
    assert await _row(owner_db, ids[0]) is None


async def test_a_failed_send_keeps_the_row_with_its_error_and_the_next_pass_sends_it(
    declared: Broker, app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    b, sent = declared
    id_ = await _enqueue(app_db, registry[COUNTY], case_id="c-3")
    b.add_middleware(Refuse({str(id_)}, times=2))

    await relay_once(app_db, b)
    first = await _row(owner_db, id_)
    assert first is not None
    assert first["sent_at"] is None
    assert first["attempts"] == 1
    assert "broker refused the message" in first["last_error"]
    assert str(id_) not in sent.ids

    await relay_once(app_db, b)  # the first retry is immediate, and fails again
    second = await _row(owner_db, id_)
    assert second is not None
    assert second["attempts"] == 2
    assert second["retry_at"] is not None

    await relay_once(app_db, b)  # backoff: not before retry_at (1 s after the second failure)
    waiting = await _row(owner_db, id_)
    assert waiting is not None
    assert waiting["attempts"] == 2

    await asyncio.sleep(1.1)
    await relay_once(app_db, b)
    done = await _row(owner_db, id_)
    assert done is not None
    assert done["sent_at"] is not None
    assert (done["attempts"], done["last_error"], done["retry_at"]) == (3, None, None)
    assert sent.ids.count(str(id_)) == 1


async def test_an_unknown_actor_is_recorded_and_the_other_rows_are_still_sent(
    declared: Broker, app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    b, sent = declared
    tenant = registry[COUNTY]
    unknown = await _enqueue(app_db, tenant, "nobody.home", case_id="c-4")
    known = await _enqueue(app_db, tenant, case_id="c-5")

    await relay_once(app_db, b)

    row = await _row(owner_db, unknown)
    assert row is not None
    assert row["sent_at"] is None
    assert "unknown actor 'nobody.home'" in row["last_error"]
    assert str(known) in sent.ids


async def test_a_row_for_another_queue_than_its_actors_is_an_error_not_a_lost_message(
    declared: Broker, app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    b, sent = declared
    tenant = registry[COUNTY]
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        message = enqueue(s, tenant, PROBE, queue="elsewhere", case_id="c-6")
        await s.flush()
        id_ = message.id

    await relay_once(app_db, b)

    row = await _row(owner_db, id_)
    assert row is not None
    assert row["sent_at"] is None
    assert "queue 'elsewhere'" in row["last_error"]
    assert str(id_) not in sent.ids


class Slow(Middleware):
    """Each send takes a few milliseconds, so two relays really overlap."""

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: Any) -> None:
        time.sleep(0.003)


async def test_two_relays_at_once_never_send_the_same_row_twice(
    declared: Broker, app_db: Database, database_urls: DatabaseUrls, registry: dict[str, Tenant]
) -> None:
    b, sent = declared
    b.add_middleware(Slow())
    tenant = registry["340100"]
    mine = {str(await _enqueue(app_db, tenant, n=i)) for i in range(60)}
    per_relay: dict[str, int] = {}
    ready = threading.Barrier(2, timeout=30)  # both relays connected before either claims

    def relay(name: str) -> None:
        async def passes() -> None:
            db = Database(database_urls.app, pool_size=1)
            try:
                await relay_once(db, b, limit=0)  # connect (claims nothing)
                await asyncio.to_thread(ready.wait)
                # Until every row of mine is sent: the shared test database may hold other tests'
                # rows that fail here (another queue), so an empty pass does not mean "done".
                deadline = time.monotonic() + 30
                while not mine <= set(sent.ids) and time.monotonic() < deadline:
                    n = await relay_once(db, b, limit=7)
                    per_relay[name] = per_relay.get(name, 0) + n
                    await asyncio.sleep(0.01 if n == 0 else 0)
            finally:
                await db.dispose()

        asyncio.run(passes())

    threads = [threading.Thread(target=relay, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    await asyncio.to_thread(lambda: [t.join(60) for t in threads])

    sent_mine = [i for i in sent.ids if i in mine]
    assert sorted(sent_mine) == sorted(mine)  # every row, each exactly once
    assert per_relay.get("a", 0) > 0
    assert per_relay.get("b", 0) > 0
