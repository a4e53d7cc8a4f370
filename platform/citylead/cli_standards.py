"""``citylead standards``: show, edit, diff (preview) and publish a tenant's standards from the shell.

Runs on the server as an operator: it connects as the application role and acts in the tenant's
own context, so row-level security applies exactly as it does to the API. Actions are audited as
``cli:<login>``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.cli_support import cli_actor, console, friendly, in_tenant
from tenants.models import Tenant
from tenants.standards.drafts import DraftPatch, do_patch_draft, get_draft
from tenants.standards.paths import Kind
from tenants.standards.publishing import Resolution, do_publish, preview
from tenants.standards.resolver import Resolver, format_vector, parse_at

__all__ = ["standards"]

T = TypeVar("T")
KIND = click.Choice([k.value for k in Kind])


def _run(code: str, work: Callable[[AsyncSession, Resolver, Tenant], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction in tenant ``code``'s context, with a fresh resolver."""
    return in_tenant(code, lambda s, tenant: work(s, Resolver(), tenant))


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def standards() -> None:
    """Standards that flow down (以市带县): catalogue, manual, assessment rules, calendar."""


@standards.command("show")
@click.argument("code")
@click.argument("kind", type=KIND)
@click.option("--prefix", default="", help="Only paths starting with this, e.g. manual/matter/06012.")
@click.option("--at", "at", default=None, help="A version vector (320000:1,320400:2) or an ISO timestamp.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly
def show(code: str, kind: str, prefix: str, at: str | None, as_json: bool) -> None:
    """The effective KIND of tenant CODE, with where each value comes from."""
    moment = parse_at(at)

    async def work(s: AsyncSession, resolver: Resolver, tenant: Tenant) -> Any:
        return await resolver.effective(s, tenant, Kind(kind), at=moment)

    doc = _run(code, work)
    entries = doc.entries(prefix)
    if as_json:
        out = {
            p: {"value": e.value, "set_by": f"{e.source.code} v{e.source.version}", "policy": e.policy.value}
            for p, e in entries.items()
        }
        click.echo(
            json.dumps({"vector": format_vector(doc.vector), "entries": out}, ensure_ascii=False, indent=1)
        )
        return
    table = Table(title=f"{code} {kind} — vector {format_vector(doc.vector)}")
    table.add_column("path", no_wrap=True)
    table.add_column("value", overflow="ellipsis", max_width=24, no_wrap=True)
    table.add_column("set by", no_wrap=True)
    table.add_column("policy", no_wrap=True)
    for path, e in entries.items():
        policy = e.policy.value if e.policy_source is None else f"{e.policy.value}·{e.policy_source.code}"
        table.add_row(path, _short(e.value), f"{e.source.code} v{e.source.version}", policy)
    console.print(table)
    console.print(f"{len(entries)} entries")


def _pairs(items: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not {what}")
        out[key] = value
    return out


@standards.command("set")
@click.argument("code")
@click.argument("kind", type=KIND)
@click.argument("assignments", nargs=-1)
@click.option("--remove", multiple=True, help="Remove an inherited entry (PATH).")
@click.option("--revert", multiple=True, help="Drop this layer's own change (PATH).")
@click.option("--policy", multiple=True, help="PATH=locked|tighten_only|free (or PATH= to lift it).")
@friendly
def set_(
    code: str,
    kind: str,
    assignments: tuple[str, ...],
    remove: tuple[str, ...],
    revert: tuple[str, ...],
    policy: tuple[str, ...],
) -> None:
    """Change tenant CODE's KIND draft: PATH=VALUE ... (VALUE is JSON, or plain text)."""
    values: dict[str, Any] = {}
    for path, raw in _pairs(assignments, "PATH=VALUE").items():
        try:
            values[path] = json.loads(raw)
        except json.JSONDecodeError:
            values[path] = raw
    policies: dict[str, str | None] = {p: (r or None) for p, r in _pairs(policy, "PATH=RULE").items()}
    patch = DraftPatch(set=values, remove=remove, revert=revert, policies=policies)

    async def work(s: AsyncSession, resolver: Resolver, tenant: Tenant) -> int:
        draft = await do_patch_draft(
            s, resolver, tenant, Kind(kind), patch, expected_version=None, acting_user=cli_actor()
        )
        return draft.version

    console.print(
        f"draft of {code} {kind} is now version {_run(code, work)}; preview it with `standards diff`"
    )


@standards.command("diff")
@click.argument("code")
@click.argument("kind", type=KIND)
@friendly
def diff(code: str, kind: str) -> None:
    """Preview CODE's KIND draft: what changes for it and each tenant below, and which of their
    overrides it would invalidate."""

    async def work(s: AsyncSession, resolver: Resolver, tenant: Tenant) -> Any:
        return await preview(s, resolver, tenant, Kind(kind))

    impact = _run(code, work)
    if not impact.draft.pending:
        console.print(f"{code} {kind}: the draft has no unpublished changes")
        return
    table = Table(title=f"{code} {kind}: draft version {impact.draft.version}")
    for col in ("tenant", "path", "old", "new"):
        table.add_column(col)
    for t in impact.tenants:
        for c in t.changes:
            table.add_row(f"{t.code} {t.name}", c.path, _short(c.old, 30), _short(c.new, 30))
        for v in t.invalid:
            table.add_row(f"{t.code} {t.name}", v.path, _short(v.value, 30), f"[red]invalid: {v.detail}[/]")
    console.print(table)
    invalid = sum(len(t.invalid) for t in impact.tenants)
    console.print(f"{len(impact.tenants)} tenants affected, {invalid} overrides to resolve (--drop/--keep)")


@standards.command("publish")
@click.argument("code")
@click.argument("kind", type=KIND)
@click.option("--note", default=None, help="Why (shown in the version list).")
@click.option("--drop", multiple=True, help="TENANT:PATH — remove that override below.")
@click.option("--keep", multiple=True, help="TENANT:PATH — keep that override; lock nothing there.")
@friendly
def publish(code: str, kind: str, note: str | None, drop: tuple[str, ...], keep: tuple[str, ...]) -> None:
    """Publish CODE's KIND draft as its next version."""
    resolutions: dict[tuple[str, str], Resolution] = {}
    for how, items in ((Resolution.DROP, drop), (Resolution.KEEP, keep)):
        for item in items:
            tenant, sep, path = item.partition(":")
            if not sep:
                raise click.BadParameter(f"{item!r} is not TENANT:PATH")
            resolutions[(tenant, path)] = how

    async def work(s: AsyncSession, resolver: Resolver, tenant: Tenant) -> int:
        row = await do_publish(
            s,
            resolver,
            tenant,
            Kind(kind),
            resolutions=resolutions,
            expected_version=None,
            note=note,
            acting_user=cli_actor(),
        )
        return row.number

    console.print(f"published {code} {kind} version {_run(code, work)}")


@standards.command("draft")
@click.argument("code")
@click.argument("kind", type=KIND)
@friendly
def draft(code: str, kind: str) -> None:
    """Print CODE's KIND draft as JSON."""

    async def work(s: AsyncSession, resolver: Resolver, tenant: Tenant) -> Any:
        return await get_draft(s, tenant, Kind(kind))

    d = _run(code, work)
    body = {"version": d.version, "published": d.published, "pending": d.pending, **d.layer.content()}
    click.echo(json.dumps(body, ensure_ascii=False, indent=1))
