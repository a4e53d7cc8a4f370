"""A division's effective onboarding template (分类指导模板), read from the ``template`` standards.

The province publishes the templates (tenants/standards/templates.py), a city may change them for
its own divisions; what a new division gets is the fold over its lineage, with provenance, like
every other standard (``GET /api/v1/tenants/{code}/standards/template``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tenants.models import Tenant
from tenants.standards.paths import Kind
from tenants.standards.resolver import Resolver

__all__ = ["Template", "UnitSpec", "available_templates", "load_template"]


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str  # with {county} replaced
    sector: str
    classes: list[str]


@dataclass(frozen=True)
class Template:
    name: str
    label: str
    levels: list[str]
    supervision: str
    command: str
    scope: str
    roles: list[str]
    units: list[UnitSpec]
    territorial: bool
    overrides: dict[Kind, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)  # "template/x/…" → "320400 v2"

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "supervision": self.supervision,
            "command": self.command,
            "scope": self.scope,
            "roles": self.roles,
            "units": [u.code for u in self.units],
            "territorial": self.territorial,
            "overrides": {k.value: len(v) for k, v in self.overrides.items()},
            "set_by": sorted(set(self.provenance.values())),
        }


async def available_templates(session: AsyncSession, resolver: Resolver, tenant: Tenant) -> dict[str, str]:
    """Template name → label, as ``tenant`` inherits them."""
    doc = await resolver.effective(session, tenant, Kind.TEMPLATE)
    out: dict[str, str] = {}
    for path, (value, _) in doc.values.items():
        parts = path.split("/")
        if len(parts) == 3 and parts[2] == "label":
            out[parts[1]] = str(value)
    return dict(sorted(out.items()))


async def load_template(
    session: AsyncSession, resolver: Resolver, tenant: Tenant, name: str
) -> Template | None:
    """Template ``name`` as ``tenant`` (the division being onboarded) inherits it; None if unknown."""
    doc = await resolver.effective(session, tenant, Kind.TEMPLATE)
    prefix = f"template/{name}/"
    entries = {p[len(prefix) :]: (v, s) for p, (v, s) in doc.values.items() if p.startswith(prefix)}
    if "label" not in entries:
        return None

    def get(key: str, default: Any) -> Any:
        found = entries.get(key)
        return found[0] if found else default

    units = [
        UnitSpec(
            key.split("/", 1)[1],
            str(value["name"]).replace("{county}", tenant.name),
            str(value["sector"]),
            list(value.get("classes", [])),
        )
        for key, (value, _) in sorted(entries.items())
        if key.startswith("unit/")
    ]
    overrides: dict[Kind, dict[str, Any]] = {}
    for key, (value, _) in sorted(entries.items()):
        if key.startswith("override/"):
            inner = key.split("/", 1)[1]
            overrides.setdefault(Kind(inner.split("/", 1)[0]), {})[inner] = value
    return Template(
        name=name,
        label=str(get("label", name)),
        levels=list(get("levels", [])),
        supervision=str(get("supervision", "own")),
        command=str(get("command", "own")),
        scope=str(get("scope", "whole")),
        roles=list(get("roles", [])),
        units=units,
        territorial=bool(get("territorial", False)),
        overrides=overrides,
        provenance={prefix + k: f"{s.code} v{s.version}" for k, (_, s) in entries.items()},
    )
