"""Open311 jurisdictions (live counties) and their services (the effective category catalogue).

**Jurisdiction.** ``jurisdiction_id`` is the county's GB/T 2260 code. Open311 callers have no
token, so no tenant context, and row-level security hides every ``tenants`` row from a
transaction without one. The database function ``citylead_open311_jurisdiction(code)`` (SECURITY
DEFINER, migration 0009) answers exactly one question past RLS: the tree path of the live
county-level division with that code, or NULL. That is public knowledge (the codes are a national
standard; a county's Open311 service list shows that it is live), it takes no path or id from
the caller, and it grants nothing: the request then runs in that county's own context
(``Database.transaction(TenantContext(path))``), where RLS shows the county and nothing below or
beside it, exactly as for the county's own staff.

**Services.** One service per minor class (小类, 4 or 5 digits) and local sub-item (细类,
``NNNNN-NN``) of the edition in use (``catalog/edition``: 5-digit GB/T 47678.5-2026 codes, or 4-digit
legacy GB/T 30428.2 codes), components and matters alike. ``service_code`` is ``{kind}-{code}``
because the same class code exists in both kinds (``component-06012`` is not ``matter-06012``).
The group is the major class (大类) name; the description is the class's filing condition (立案条件)
from the effective disposal manual, which tells the public what the city will act on.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cases.stats import KIND_LABELS
from citylead.db import Database
from citylead.open311.formats import ServiceView
from citylead.open311.forms import parse_service_code
from tenants.context import TenantContext
from tenants.errors import FieldProblem, InvalidInput, NotFound
from tenants.models import Tenant, TenantStatus
from tenants.standards.layers import Effective
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver

__all__ = ["Jurisdiction", "find_service", "in_jurisdiction", "services_of", "services_of_county"]

_CODE = re.compile(r"^\d{6}$")
_EDITION_CODES = {
    "gbt47678_5": re.compile(r"^\d{5}(?:-\d{2})?$"),
    "gbt30428": re.compile(r"^\d{4}(?:-\d{2})?$"),
}
_NAME_PATH = re.compile(r"^catalog/(component|matter)/([0-9-]+)/name$")
_FIND = text("SELECT citylead_open311_jurisdiction(:code)")


@dataclass(frozen=True)
class Jurisdiction:
    """A live county, in whose context the request's transaction runs."""

    session: AsyncSession
    county: Tenant


def _unknown(code: str) -> NotFound:
    return NotFound(f"jurisdiction_id {code} is not a live county-level division on this platform")


@asynccontextmanager
async def in_jurisdiction(db: Database, jurisdiction_id: str | None) -> AsyncIterator[Jurisdiction]:
    """One transaction in the county's context. InvalidInput (400) without a jurisdiction_id,
    NotFound (404) for a code that is not a live county-level division."""
    if not jurisdiction_id:
        raise InvalidInput(
            "jurisdiction_id is required: the county code (GB/T 2260, six digits)",
            errors=[FieldProblem("jurisdiction_id", "required: the county code (GB/T 2260, six digits)")],
        )
    if not _CODE.match(jurisdiction_id):
        raise _unknown(jurisdiction_id)
    async with db.transaction(None) as s:
        path = await s.scalar(_FIND, {"code": jurisdiction_id})
    if path is None:
        raise _unknown(jurisdiction_id)
    async with db.transaction(TenantContext(str(path))) as s:
        county = await s.scalar(select(Tenant).where(Tenant.path == path))
        # Checked again inside the context: the county may have been suspended in between.
        if county is None or county.status is not TenantStatus.LIVE or not county.level.is_division:
            raise _unknown(jurisdiction_id)
        yield Jurisdiction(s, county)


def services_of(catalog: Effective, manual: Effective | None = None) -> list[ServiceView]:
    """The services an effective catalogue offers, components first, by code. Cached on the
    folded catalogue (which never changes) per manual version vector."""
    key = f"open311:{manual.vector if manual else ()}"
    cached = catalog.views.get(key)
    if isinstance(cached, list):
        return list(cached)
    views = _build(catalog, manual)
    catalog.views[key] = views
    return list(views)


def _build(catalog: Effective, manual: Effective | None) -> list[ServiceView]:
    edition = catalog.value("catalog/edition", "gbt47678_5")
    in_edition = _EDITION_CODES.get(edition, _EDITION_CODES["gbt47678_5"])
    found: list[tuple[int, str, ServiceView]] = []
    for path, (name, _) in catalog.values.items():
        parts = _NAME_PATH.match(path)
        if parts is None or not in_edition.match(parts.group(2)):
            continue
        kind, code = parts.group(1), parts.group(2)
        major = code[:2]
        group = catalog.value(f"catalog/{kind}/{major}/name") or major
        found.append(
            (
                0 if kind == "component" else 1,
                code,
                ServiceView(
                    service_code=f"{kind}-{code}",
                    service_name=str(name),
                    description=_filing(manual, catalog, kind, code),
                    keywords=", ".join((KIND_LABELS[kind], str(group), code)),
                    group=str(group),
                ),
            )
        )
    return [view for _, _, view in sorted(found, key=lambda f: (f[0], f[1]))]


def find_service(services: list[ServiceView], service_code: str) -> ServiceView:
    """The service with that code, or NotFound (404)."""
    if parse_service_code(service_code) is not None:
        for view in services:
            if view.service_code == service_code:
                return view
    raise NotFound(f"service_code {service_code} is not offered in this jurisdiction")


async def services_of_county(session: AsyncSession, resolver: Resolver, county: Tenant) -> list[ServiceView]:
    """The county's services from its effective catalogue and manual (both cached by the resolver)."""
    catalog = await resolver.effective(session, county, Kind.CATALOG)
    manual = await resolver.effective(session, county, Kind.MANUAL)
    return services_of(catalog, manual)


def _filing(manual: Effective | None, catalog: Effective, kind: str, code: str) -> str:
    """The filing condition along the manual's own chain (see tenants.standards.views): the class,
    its parent class for a sub-item, the 2026 class a legacy code maps to, the default row."""
    if manual is None:
        return ""
    parent = code.split("-", 1)[0]
    chain = [code, parent, catalog.value(f"catalog/{kind}/{parent}/maps_to")]
    for link in chain:
        if link and (found := manual.value(f"manual/{kind}/{link}/filing")):
            return str(found)
    return str(manual.value("manual/default/filing") or "")
