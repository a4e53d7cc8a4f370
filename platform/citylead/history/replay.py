"""The real path (真实流程回放): a plan replayed through ``do_report`` and ``do_action`` at its own
instants (a frozen clock), each step in its own transaction in the acting tenant's context, as the
API would run it. Slow (a few hundred cases a minute); for small histories and for the test that
holds the bulk path to it. It also queues the notifications the workflow sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from citylead.cases.actions import do_action
from citylead.cases.intake import do_report
from citylead.cases.models import Case
from citylead.db import Database
from citylead.geography.index import Locator
from citylead.history.simulate import Plan, actor_of_move
from citylead.units.service import lineage
from tenants.context import TenantContext
from tenants.errors import Conflict
from tenants.models import Tenant
from tenants.standards.resolver import Resolver

__all__ = ["replay"]


async def replay(
    db: Database,
    county: Tenant,
    plans: Sequence[Plan],
    *,
    resolver: Resolver,
    locator: Locator,
    on_case: Callable[[Plan], None] = lambda _: None,
) -> list[uuid.UUID]:
    """Replay ``plans`` in ``county`` (and its city, for the city's departments); the case ids."""
    async with db.transaction(TenantContext(county.path)) as s:
        tenants = {t.code: t for t in await lineage(s, county)}
    ids = []
    for plan in plans:
        async with db.transaction(TenantContext(county.path)) as s:
            home = await s.get_one(Tenant, county.id)
            intake = await do_report(
                s, home, plan.report, resolver=resolver, locator=locator, acting_user=plan.by, now=plan.at
            )
            if not intake.created:
                raise Conflict(f"the report {plan.report.external_id} joined case {intake.case.number}")
            case_id = intake.case.id
        for move in plan.moves:
            tenant = tenants[move.tenant]
            async with db.transaction(TenantContext(tenant.path)) as s:
                case = await s.get_one(Case, (county.id, case_id))
                actor = actor_of_move(move, tenant, case)
                await do_action(s, case, move.action, move.given, actor=actor, resolver=resolver, now=move.at)
        ids.append(case_id)
        on_case(plan)
    return ids
