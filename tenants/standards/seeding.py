"""Publishing a layer in one step (seeds, the demo, the CLI): draft, check, publish, all audited.

The province baseline (国家标准基线) is published as version 1 of each kind of the province's layers:
the GB/T 47678.5-2026 catalogue with the legacy GB/T 30428.2 codes and their crosswalk, default
disposal-manual rows, default assessment rules, and the national calendar (chinesecalendar).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenants.models import Tenant
from tenants.standards import baseline
from tenants.standards.drafts import do_replace_draft, get_draft
from tenants.standards.national import COVERED_YEARS, national_days
from tenants.standards.paths import Kind
from tenants.standards.publishing import do_publish
from tenants.standards.resolver import Resolver
from tenants.standards.templates import template_layer

__all__ = ["BASELINE_ACTOR", "calendar_layer", "province_baseline", "publish_layer", "seed_baseline"]

BASELINE_ACTOR = "citylead:baseline"
BASELINE_YEARS = (2024, 2025, 2026, 2027)


def calendar_layer() -> dict[str, Any]:
    """The national working calendar: 08:30–12:00 and 13:30–17:30 in Asia/Shanghai, the public
    holidays and make-up working days of the years ``chinesecalendar`` carries, urgent cases
    counted in natural time."""
    holidays, workdays = national_days(BASELINE_YEARS)
    values: dict[str, Any] = {
        "calendar/timezone": "Asia/Shanghai",
        "calendar/hours": [["08:30", "12:00"], ["13:30", "17:30"]],
        "calendar/natural_time": ["urgent"],
    }
    values.update({f"calendar/holiday/{d.isoformat()}": name for d, name in sorted(holidays.items())})
    values.update({f"calendar/workday/{d.isoformat()}": name for d, name in sorted(workdays.items())})
    return values


def province_baseline() -> dict[Kind, dict[str, Any]]:
    return {
        Kind.CATALOG: baseline.catalog_layer(),
        Kind.MANUAL: baseline.manual_layer(),
        Kind.ASSESSMENT: baseline.assessment_layer(),
        Kind.CALENDAR: calendar_layer(),
        Kind.TEMPLATE: template_layer(),
    }


async def publish_layer(
    session: AsyncSession,
    resolver: Resolver,
    tenant: Tenant,
    kind: Kind,
    values: Mapping[str, Any],
    *,
    policies: Mapping[str, str] | None = None,
    note: str,
    acting_user: str,
) -> int:
    """Replace the tenant's draft with ``values`` and ``policies`` and publish it; the new version."""
    draft = await get_draft(session, tenant, kind)
    content = {"values": dict(values), "removed": [], "policies": dict(policies or {})}
    await do_replace_draft(
        session, resolver, tenant, kind, content, expected_version=draft.version, acting_user=acting_user
    )
    version = await do_publish(
        session,
        resolver,
        tenant,
        kind,
        resolutions={},
        expected_version=None,
        note=note,
        acting_user=acting_user,
    )
    return version.number


async def seed_baseline(session: AsyncSession, resolver: Resolver, province: Tenant) -> dict[Kind, int]:
    """Publish the baseline for every kind the province has not published yet (idempotent).

    The session must be in the province's context.
    """
    done: dict[Kind, int] = {}
    years = ", ".join(str(y) for y in COVERED_YEARS)
    for kind, values in province_baseline().items():
        if (await get_draft(session, province, kind)).published:
            continue
        done[kind] = await publish_layer(
            session,
            resolver,
            province,
            kind,
            values,
            note=f"national baseline (GB/T 47678.5-2026; holidays {years})",
            acting_user=BASELINE_ACTOR,
        )
    return done
