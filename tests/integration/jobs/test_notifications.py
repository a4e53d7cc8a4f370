"""Notifications end to end on the REAL brokers: committed in an action's transaction, relayed,
run by dramatiq worker threads, one row however often the message is delivered; isolation of
``notifications`` as the application role.

Tenants: 泰州市 (321200) with 海陵区 (321202, the owner) and 高港区 (321203, its sibling);
镇江市 (321100) is the other city.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from citylead.db import Database
from citylead.db.roles import DatabaseUrls
from citylead.jobs import notifications
from citylead.jobs.broker import declare
from citylead.jobs.notifications import Notification, add_notification, notify
from citylead.jobs.outbox import OutboxMessage, enqueue
from citylead.jobs.registry import JobContext, Registry
from citylead.jobs.relay import relay_once
from citylead.jobs.worker import InProcessWorker
from tenants.context import TenantContext
from tenants.errors import InvalidInput
from tenants.models import Tenant
from tests.integration.jobs.conftest import QUEUE, Sent, eventually, jobs_settings

CITY, OWN, SIBLING, OTHER_CITY = "321200", "321202", "321203", "321100"

Broker = tuple[dramatiq.Broker, Sent]


def _payload(key: str) -> dict[str, Any]:
    return {
        "recipient_kind": "unit",
        "recipient": "U-PARKS",
        "subject": "新案卷派遣",
        "body": "案卷 2026-0001（暴露垃圾）已派遣至贵单位，请在 4 个工作时内处置。",
        "dedupe_key": key,
    }


async def _count(owner_db: Database, tenant: Tenant, key: str) -> int:
    async with owner_db.transaction(None) as s:
        n = await s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.tenant_id == tenant.id, Notification.dedupe_key == key)
        )
    return int(n or 0)


class Processed(dramatiq.Middleware):
    """Message ids the worker finished, and any exception."""

    def __init__(self) -> None:
        self.done: list[tuple[str, BaseException | None]] = []

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message[Any],
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self.done.append((message.message_id, exception))


@contextmanager
def running(b: dramatiq.Broker, registry: Registry, app_url: str) -> Iterator[Processed]:
    """dramatiq worker threads on broker ``b`` with a fresh job context (what InProcessWorker does)."""
    processed = Processed()
    b.add_middleware(processed)
    declare(b, registry, context=JobContext(Database(app_url, pool_size=2)))
    b.emit_after("process_boot")
    worker = dramatiq.Worker(b, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield processed
    finally:
        worker.stop(timeout=5000)


async def test_a_committed_notification_is_delivered_by_the_in_process_worker_within_a_second(
    broker_kind: str,
    clean_queue: None,
    database_urls: DatabaseUrls,
    app_db: Database,
    owner_db: Database,
    registry: dict[str, Tenant],
    registry_with: Callable[..., Registry],
) -> None:
    """The relay polls only every 30 s here: delivery within a second is the commit's NOTIFY."""
    tenant = registry[OWN]
    key = f"e2e:{broker_kind}:{uuid.uuid4()}"
    worker = InProcessWorker(
        jobs_settings(broker_kind, relay_interval_seconds=30),
        database_url=database_urls.app,
        app_database_url=database_urls.app,
        registry=registry_with(),
        lock_name=f"test-{uuid.uuid4()}",
    )
    worker.start()
    try:
        async with app_db.transaction(TenantContext(tenant.path)) as s:
            message = enqueue(s, tenant, notifications.SEND, queue=QUEUE, **_payload(key))
        committed = time.monotonic()
        await eventually(lambda: _count(owner_db, tenant, key), within=5)
        assert time.monotonic() - committed < 1.0
    finally:
        stopping = time.monotonic()
        worker.stop()
        assert time.monotonic() - stopping < 5.0
    async with owner_db.transaction(None) as s:
        sent_at = await s.scalar(select(OutboxMessage.sent_at).where(OutboxMessage.id == message.id))
        row = (await s.scalars(select(Notification).where(Notification.dedupe_key == key))).one()
    assert sent_at is not None
    assert (row.tenant_id, row.recipient_kind, row.recipient) == (tenant.id, "unit", "U-PARKS")
    assert row.body.startswith("案卷 2026-0001")
    assert row.read_at is None


async def test_a_redelivered_notification_makes_one_row(
    broker: Broker,
    database_urls: DatabaseUrls,
    app_db: Database,
    owner_db: Database,
    registry: dict[str, Tenant],
    registry_with: Callable[..., Registry],
) -> None:
    b, sent = broker
    tenant = registry[OWN]
    key = f"redelivered:{uuid.uuid4()}"
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        outbox = enqueue(s, tenant, notifications.SEND, queue=QUEUE, **_payload(key))
    with running(b, registry_with(), database_urls.app) as processed:
        await relay_once(app_db, b)
        await eventually(lambda: [m for m, _ in processed.done] == [str(outbox.id)])
        first = next(m for m in sent.ids if m == str(outbox.id))
        again = dramatiq.Message(
            queue_name=QUEUE,
            actor_name=notifications.SEND,
            args=(),
            kwargs={"tenant_id": str(tenant.id), "tenant_path": tenant.path, **_payload(key)},
            options={},
            message_id=first,
        )
        b.enqueue(again)  # what a relay crash between send and commit does
        await eventually(lambda: len(processed.done) == 2)
    assert [e for _, e in processed.done] == [None, None]
    assert await _count(owner_db, tenant, key) == 1


async def test_the_job_itself_is_idempotent_and_runs_in_the_payloads_tenant(
    job_context: JobContext, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    tenant = registry[OWN]
    key = f"direct:{uuid.uuid4()}"
    payload = {"tenant_id": str(tenant.id), "tenant_path": tenant.path, **_payload(key)}
    await notifications.send.fn(job_context, **payload)
    await notifications.send.fn(job_context, **payload)
    assert await _count(owner_db, tenant, key) == 1


async def test_a_payload_for_another_tenant_than_its_path_is_refused_by_rls(
    job_context: JobContext, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    key = f"forged:{uuid.uuid4()}"
    forged = {"tenant_id": str(registry[OWN].id), "tenant_path": registry[SIBLING].path, **_payload(key)}
    with pytest.raises(DBAPIError, match="row-level security"):
        await notifications.send.fn(job_context, **forged)
    assert await _count(owner_db, registry[OWN], key) == 0


async def test_notify_refuses_a_bad_notification_naming_the_field_and_queues_nothing(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    tenant = registry[OWN]
    key = f"bad:{uuid.uuid4()}"
    with pytest.raises(InvalidInput) as caught:
        async with app_db.transaction(TenantContext(tenant.path)) as s:
            notify(s, tenant, **{**_payload(key), "recipient_kind": "group", "subject": ""})
    assert {(p.field, p.rule) for p in caught.value.errors} == {
        ("recipient_kind", "one of unit, role, user"),
        ("subject", "1 to 255 characters"),
    }
    async with owner_db.transaction(None) as s:
        queued = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.payload["dedupe_key"].astext == key)
        )
    assert queued == 0


async def test_notify_queues_the_send_job_with_the_tenant(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    tenant = registry[OWN]
    key = f"queued:{uuid.uuid4()}"
    case_id = uuid.uuid4()
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        message = notify(s, tenant, case_id=case_id, **_payload(key))
    async with owner_db.transaction(None) as s:
        row = (await s.scalars(select(OutboxMessage).where(OutboxMessage.id == message.id))).one()
    assert (row.tenant_id, row.actor, row.queue, row.sent_at) == (
        tenant.id,
        "notifications.send",
        "default",
        None,
    )
    assert row.payload == {
        "tenant_id": str(tenant.id),
        "tenant_path": tenant.path,
        "case_id": str(case_id),
        **_payload(key),
    }


# --- isolation, as the application role with row-level security forced ---------------------------


@pytest.fixture(scope="module")
def arranged() -> dict[str, uuid.UUID]:
    return {}


@pytest.fixture
async def own_notification(
    arranged: dict[str, uuid.UUID], owner_db: Database, registry: dict[str, Tenant]
) -> uuid.UUID:
    """One notification of 海陵区 (321202), arranged by the owner role."""
    if "id" not in arranged:
        async with owner_db.transaction(None) as s:
            await add_notification(s, registry[OWN].id, **_payload("isolation:own"))
            arranged["id"] = (
                await s.scalars(select(Notification.id).where(Notification.dedupe_key == "isolation:own"))
            ).one()
    return arranged["id"]


async def _visible(app_db: Database, actor: Tenant, id_: uuid.UUID) -> int:
    async with app_db.transaction(TenantContext(actor.path)) as s:
        return len((await s.scalars(select(Notification.id).where(Notification.id == id_))).all())


@pytest.mark.parametrize(("reader", "sees"), [(OWN, 1), (CITY, 1), (SIBLING, 0), (OTHER_CITY, 0)])
async def test_who_reads_a_countys_notifications(
    app_db: Database, registry: dict[str, Tenant], own_notification: uuid.UUID, reader: str, sees: int
) -> None:
    assert await _visible(app_db, registry[reader], own_notification) == sees


@pytest.mark.parametrize("actor", [CITY, SIBLING, OTHER_CITY])
async def test_no_other_tenant_marks_read_or_adds_a_countys_notifications(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant], own_notification: uuid.UUID, actor: str
) -> None:
    context = TenantContext(registry[actor].path)
    async with app_db.transaction(context) as s:
        changed = await s.execute(
            update(Notification).where(Notification.id == own_notification).values(read_at=func.now())
        )
        assert changed.rowcount == 0  # type: ignore[attr-defined]
    with pytest.raises(DBAPIError, match="row-level security"):
        async with app_db.transaction(context) as s:
            await s.execute(
                insert(Notification).values(tenant_id=registry[OWN].id, **_payload(f"x:{uuid.uuid4()}"))
            )
    with pytest.raises(DBAPIError, match="permission denied"):
        async with app_db.transaction(context) as s:
            await s.execute(delete(Notification).where(Notification.id == own_notification))
    async with owner_db.transaction(None) as s:
        read_at = await s.scalar(select(Notification.read_at).where(Notification.id == own_notification))
    assert read_at is None


async def test_the_county_marks_its_own_notification_read(
    app_db: Database, owner_db: Database, registry: dict[str, Tenant]
) -> None:
    tenant = registry[OWN]
    key = f"read:{uuid.uuid4()}"
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        assert await add_notification(s, tenant.id, **_payload(key))
    async with app_db.transaction(TenantContext(tenant.path)) as s:
        changed = await s.execute(
            update(Notification)
            .where(Notification.dedupe_key == key, Notification.read_at.is_(None))
            .values(read_at=func.now())
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    async with owner_db.transaction(None) as s:
        read_at = await s.scalar(select(Notification.read_at).where(Notification.dedupe_key == key))
    assert read_at is not None
