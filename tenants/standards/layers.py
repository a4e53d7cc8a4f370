"""Layers and the fold (逐级继承): pure data and functions, no database.

A **layer** is what one tenant changes in one kind of standards document: values it sets, inherited
entries it removes, policies it imposes on the tenants below it, and exemptions it granted when it
published over a descendant's override. The **effective** document of a tenant is its lineage's
layers folded top-down (province, city, county); every value remembers which layer set it.

Policies bind the tenants *below* the layer that sets them, at a path and every leaf under it:
``locked`` (no change), ``tighten_only`` (limits may shrink, lists may gain), ``free``. Lower levels
may strengthen a policy, never weaken it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from tenants.standards.paths import Kind, Order, check_entry, is_prefix, rule_for
from tenants.standards.worktime import Limit, WorkCalendar, deadline

__all__ = [
    "Effective",
    "EffectiveEntry",
    "Layer",
    "Policy",
    "Source",
    "Violation",
    "fold",
    "parent_class_path",
    "prefixes",
    "validate_layer",
]


class Policy(enum.StrEnum):
    FREE = "free"  # 自由覆盖
    TIGHTEN_ONLY = "tighten_only"  # 只可从严
    LOCKED = "locked"  # 锁定

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        return {"free": "自由覆盖", "tighten_only": "只可从严", "locked": "锁定"}[self.value]


_RANK = {Policy.FREE: 0, Policy.TIGHTEN_ONLY: 1, Policy.LOCKED: 2}


@dataclass(frozen=True, slots=True)
class Source:
    """Which tenant and which version set a value (provenance); version 0 is an unpublished draft."""

    code: str
    version: int


@dataclass(frozen=True, slots=True)
class Layer:
    """One tenant's changes to one kind of document (a draft or a published version)."""

    source: Source
    values: Mapping[str, Any] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    policies: Mapping[str, Policy] = field(default_factory=dict)
    exemptions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # path → {code: kept value}

    @classmethod
    def of(cls, source: Source, content: Mapping[str, Any]) -> Layer:
        return cls(
            source=source,
            values=dict(content.get("values", {})),
            removed=frozenset(content.get("removed", ())),
            policies={p: Policy(r) for p, r in content.get("policies", {}).items()},
            exemptions={p: dict(e) for p, e in content.get("exemptions", {}).items()},
        )

    def content(self) -> dict[str, Any]:
        """The JSON stored for this layer."""
        return {
            "values": dict(sorted(self.values.items())),
            "removed": sorted(self.removed),
            "policies": {p: r.value for p, r in sorted(self.policies.items())},
            "exemptions": {p: dict(e) for p, e in sorted(self.exemptions.items())},
        }

    def touched(self) -> set[str]:
        return set(self.values) | set(self.removed)


@dataclass(frozen=True, slots=True)
class EffectiveEntry:
    value: Any
    source: Source
    policy: Policy = Policy.FREE
    policy_source: Source | None = None


def prefixes(path: str) -> Iterable[str]:
    """``a/b/c`` → ``a``, ``a/b``, ``a/b/c``."""
    start = 0
    while (i := path.find("/", start)) != -1:
        yield path[:i]
        start = i + 1
    yield path


@dataclass
class Effective:
    """The folded document of one tenant: values with provenance, and the policies in force."""

    kind: Kind
    vector: tuple[Source, ...]
    values: dict[str, tuple[Any, Source]]
    policies: dict[str, tuple[Policy, Source]]
    exemptions: dict[str, dict[str, Any]]
    views: dict[str, object] = field(default_factory=dict, compare=False, repr=False)  # see views.py

    def value(self, path: str, default: Any = None) -> Any:
        found = self.values.get(path)
        return found[0] if found else default

    def policy(
        self, path: str, *, for_code: str | None = None, value: Any = None
    ) -> tuple[Policy, Source | None]:
        """The strongest policy on ``path`` or any prefix of it.

        With ``for_code``, an exemption granted to that tenant for exactly ``value`` lifts it.
        """
        if for_code is not None and self.exemptions.get(path, {}).get(for_code, _MISSING) == value:
            return Policy.FREE, None
        best: tuple[Policy, Source | None] = (Policy.FREE, None)
        for candidate in {path, parent_class_path(path)}:
            for prefix in prefixes(candidate):
                found = self.policies.get(prefix)
                if found and found[0].rank > best[0].rank:
                    best = found
        return best

    def entries(self, prefix: str = "") -> dict[str, EffectiveEntry]:
        out: dict[str, EffectiveEntry] = {}
        for path in sorted(self.values):
            if path.startswith(prefix):
                value, source = self.values[path]
                policy, policy_source = self.policy(path)
                out[path] = EffectiveEntry(value, source, policy, policy_source)
        return out


_MISSING = object()
_SUB_ITEM = re.compile(r"/(\d{4,5})-\d{2}(?=/|$)")


def parent_class_path(path: str) -> str:
    """A local sub-item is governed like its class: ``…/06012-01/limit`` → ``…/06012/limit``."""
    return _SUB_ITEM.sub(r"/\1", path, count=1)


def fold(kind: Kind, layers: Sequence[Layer]) -> Effective:
    """Fold layers top-down (province first). Later layers win; policies only ever strengthen."""
    values: dict[str, tuple[Any, Source]] = {}
    policies: dict[str, tuple[Policy, Source]] = {}
    exemptions: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for path in layer.removed:
            values.pop(path, None)
        for path, value in layer.values.items():
            values[path] = (value, layer.source)
        for path, policy in layer.policies.items():
            upper = policies.get(path)
            if upper is None or policy.rank > upper[0].rank:
                policies[path] = (policy, layer.source)
        for path, granted in layer.exemptions.items():
            exemptions.setdefault(path, {}).update(granted)
    return Effective(kind, tuple(layer.source for layer in layers), values, policies, exemptions)


@dataclass(frozen=True, slots=True)
class Violation:
    """One entry of a layer that the layers above do not allow."""

    code: str  # the tenant whose layer breaks the rule
    path: str
    rule: str  # locked | tighten_only | policy_weakened | invalid_value | not_inherited | weights_sum
    detail: str
    value: Any = None
    upper: Any = None
    set_by: Source | None = None


# Limits in different units are compared by their deadlines from one reference instant: a Monday
# morning in an ordinary week on the default calendar. 1wd and 24h then compare as equal.
_REFERENCE = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
_REFERENCE_CALENDAR = WorkCalendar.default()


@lru_cache(maxsize=1024)
def _span(text: str) -> float:
    return (deadline(_REFERENCE, Limit.parse(text), _REFERENCE_CALENDAR) - _REFERENCE).total_seconds()


def _loosens(order: Order, value: Any, upper: Any) -> bool:
    if order is Order.SHRINK:
        if isinstance(value, str) and isinstance(upper, str):
            return _span(value) > _span(upper)
        return bool(value > upper)
    if order is Order.GROW:
        return not set(upper) <= set(value)
    return bool(value != upper)


def validate_layer(code: str, layer: Layer, upper: Effective, kind: Kind) -> list[Violation]:
    """Everything in ``layer`` (tenant ``code``) that ``upper`` (its ancestors' fold) forbids."""
    out: list[Violation] = []
    for path, value in layer.values.items():
        if problem := check_entry(kind, path, value):
            out.append(Violation(code, path, "invalid_value", problem, value))
            continue
        policy, set_by = upper.policy(path, for_code=code, value=value)
        old = upper.value(path, _MISSING)
        if old is _MISSING:  # a new sub-item is held to its class's value
            old = upper.value(parent_class_path(path), _MISSING)
        if policy is Policy.LOCKED:
            out.append(Violation(code, path, "locked", "locked by an upper level", value, _none(old), set_by))
        elif policy is Policy.TIGHTEN_ONLY and old is not _MISSING:
            rule = rule_for(path)
            assert rule is not None
            if _loosens(rule.order, value, old):
                detail = f"tighten_only: {rule.describe} {rule.order.value}"
                out.append(Violation(code, path, "tighten_only", detail, value, old, set_by))
    for path in layer.removed:
        if path not in upper.values:
            out.append(Violation(code, path, "not_inherited", "there is no inherited entry to remove"))
            continue
        policy, set_by = upper.policy(path)
        if policy is not Policy.FREE:
            detail = f"{policy.value}: an inherited entry may not be removed"
            out.append(Violation(code, path, policy.value, detail, None, upper.value(path), set_by))
    for path, policy in layer.policies.items():
        if not path.startswith(kind.value + "/") or not is_prefix(path):
            out.append(Violation(code, path, "invalid_value", "not a path of this document", policy.value))
            continue
        above, set_by = upper.policy(path)
        if policy.rank < above.rank:
            detail = f"a policy may be strengthened below, not weakened ({above.value} above)"
            out.append(Violation(code, path, "policy_weakened", detail, policy.value, above.value, set_by))
    if kind is Kind.ASSESSMENT:
        out += _weight_sums(code, layer, upper)
    return out


def _weight_sums(code: str, layer: Layer, upper: Effective) -> list[Violation]:
    """The weights of every subject the layer touches must still sum to 100 after the fold."""
    touched = {p.split("/")[1] for p in layer.touched() if "/weight/" in p}
    out = []
    for subject in sorted(touched):
        prefix = f"assessment/{subject}/weight/"
        merged = {p: v for p, (v, _) in upper.values.items() if p.startswith(prefix)}
        merged.update({p: v for p, v in layer.values.items() if p.startswith(prefix)})
        for p in layer.removed:
            merged.pop(p, None)
        total = sum(v for v in merged.values() if isinstance(v, int | float))
        if abs(total - 100) > 1e-9:
            detail = f"the weights of {subject} must sum to 100; they would sum to {total:g}"
            out.append(Violation(code, prefix.rstrip("/"), "weights_sum", detail, total, 100))
    return out


def _none(value: Any) -> Any:
    return None if value is _MISSING else value
