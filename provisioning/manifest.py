"""A province manifest (全省接入清单): many cities and counties onboarded from one YAML file.

```yaml
province: "320000"
concurrency: 3                # jobs at once (default 2)
cities:
  - code: "320100"            # a city, onboarded first, then its counties
    template: city
    admin: admin@nanjing.example.cn
    counties:
      - code: "320102"
        template: district
        grids: nanjing/320102/grids.geojson      # relative to the manifest file
        units: nanjing/320102/units.csv
        components: nanjing/320102/components.csv
        admin: admin@xuanwu.example.cn
counties:                     # counties of cities that are already live
  - {code: "320481", city: "320400", template: county-city, grids: …}
```

Cities go first; a county waits for its city. A failed entry never stops the others (a county
whose city failed is reported as skipped). The dry run checks every entry first and runs nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from provisioning.inputs import FILE_NAMES, OnboardRequest, file_from_path
from tenants.errors import FieldProblem, InvalidInput

__all__ = ["Entry", "Manifest", "Outcome", "load_manifest", "run_entries"]

_ENTRY_KEYS = {"code", "template", "admin", "city", "counties", *FILE_NAMES}


@dataclass
class Entry:
    where: str  # "cities[0]" or "cities[0].counties[2]"
    request: OnboardRequest | None  # None when the entry itself is malformed
    problems: list[FieldProblem] = field(default_factory=list)


@dataclass
class Manifest:
    province: str
    concurrency: int
    cities: list[Entry]
    counties: list[Entry]

    @property
    def entries(self) -> list[Entry]:
        return [*self.cities, *self.counties]


@dataclass
class Outcome:
    entry: Entry
    state: str  # succeeded | failed | skipped | invalid | ok (dry run)
    seconds: float = 0.0
    job_id: str | None = None
    slowest: str | None = None
    detail: str = ""
    problems: list[FieldProblem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _code(value: Any) -> str | None:
    text = str(value) if isinstance(value, int | str) else None
    return text if text is not None and len(text) == 6 and text.isdigit() else None


def _entry(raw: Any, where: str, base: Path, kind: str, parent: str | None) -> Entry:
    problems: list[FieldProblem] = []
    if not isinstance(raw, dict):
        return Entry(where, None, [FieldProblem(where, "must be a mapping with code and template")])
    for key in raw:
        if key not in _ENTRY_KEYS:
            problems.append(
                FieldProblem(f"{where}.{key}", "is not a field: " + ", ".join(sorted(_ENTRY_KEYS)))
            )
    code = _code(raw.get("code"))
    if code is None:
        problems.append(
            FieldProblem(f"{where}.code", "must be a six-digit GB/T 2260 code (quote it)", raw.get("code"))
        )
    template = raw.get("template")
    if not isinstance(template, str) or not template:
        problems.append(FieldProblem(f"{where}.template", "required: a template name", template))
    if parent is None:
        parent = _code(raw.get("city"))
        if parent is None:
            problems.append(
                FieldProblem(
                    f"{where}.city", "required: the six-digit code of the county's city", raw.get("city")
                )
            )
    files = {}
    for name in FILE_NAMES:
        if raw.get(name) is None:
            continue
        path = (base / str(raw[name])).resolve()
        if not path.is_file():
            problems.append(FieldProblem(f"{where}.{name}", f"no such file: {path}", raw[name]))
            continue
        try:
            files[name] = file_from_path(name, path)
        except ValueError as exc:
            problems.append(FieldProblem(f"{where}.{name}", str(exc), raw[name]))
    admin = raw.get("admin")
    if problems or code is None or parent is None or not isinstance(template, str):
        return Entry(where, None, problems)
    email = str(admin) if admin else None
    if kind == "county":
        request = OnboardRequest("county", code, parent, template, email, files)
    else:
        request = OnboardRequest("city", code, parent, template, email, files)
    return Entry(where, request)


def load_manifest(path: Path) -> Manifest:
    """Read and shape-check a manifest; InvalidInput if it is not a manifest at all."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: not a readable YAML manifest: {exc}") from exc
    if not isinstance(doc, dict):
        raise InvalidInput(f"{path}: a manifest is a mapping with province, cities and counties")
    province = _code(doc.get("province"))
    if province is None or not province.endswith("0000"):
        raise InvalidInput(
            f"{path}: province must be a six-digit province code ending in 0000",
            errors=[FieldProblem("province", 'a province code such as "320000"', doc.get("province"))],
        )
    concurrency = doc.get("concurrency", 2)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 16:
        raise InvalidInput(
            f"{path}: concurrency must be a number from 1 to 16",
            errors=[FieldProblem("concurrency", "1-16", concurrency)],
        )
    base = path.parent
    cities: list[Entry] = []
    counties: list[Entry] = []
    for i, raw in enumerate(doc.get("cities") or []):
        city = _entry(raw, f"cities[{i}]", base, "city", province)
        cities.append(city)
        city_code = _code(raw.get("code")) if isinstance(raw, dict) else None
        for j, sub in enumerate((raw.get("counties") if isinstance(raw, dict) else None) or []):
            county = _entry(sub, f"cities[{i}].counties[{j}]", base, "county", city_code or "000000")
            counties.append(county)
    for i, raw in enumerate(doc.get("counties") or []):
        counties.append(_entry(raw, f"counties[{i}]", base, "county", None))
    seen: dict[str, str] = {}
    for entry in [*cities, *counties]:
        if entry.request is not None:
            if entry.request.code in seen:
                entry.problems.append(
                    FieldProblem(
                        f"{entry.where}.code", f"also at {seen[entry.request.code]}", entry.request.code
                    )
                )
            seen.setdefault(entry.request.code, entry.where)
    if not cities and not counties:
        raise InvalidInput(f"{path}: the manifest lists no cities and no counties")
    return Manifest(province, concurrency, cities, counties)


Runner = Callable[[Entry], Awaitable[Outcome]]


async def run_entries(
    manifest: Manifest,
    run: Runner,
    *,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> list[Outcome]:
    """Run the cities, then the counties, ``manifest.concurrency`` at a time; a county whose city
    did not succeed is skipped. Outcomes in manifest order."""
    gate = asyncio.Semaphore(manifest.concurrency)

    async def one(entry: Entry) -> Outcome:
        if entry.request is None or entry.problems:
            outcome = Outcome(entry, "invalid", problems=entry.problems)
        else:
            async with gate:
                started = time.monotonic()
                outcome = await run(entry)
                outcome.seconds = outcome.seconds or time.monotonic() - started
        on_done(outcome)
        return outcome

    cities = await asyncio.gather(*(one(e) for e in manifest.cities))
    good = {o.entry.request.code for o in cities if o.entry.request and o.state in ("succeeded", "ok")}
    planned = {e.request.code for e in manifest.cities if e.request}

    async def county(entry: Entry) -> Outcome:
        parent = entry.request.parent if entry.request else None
        if parent in planned and parent not in good:
            outcome = Outcome(entry, "skipped", detail=f"its city {parent} was not onboarded")
            on_done(outcome)
            return outcome
        return await one(entry)

    counties = await asyncio.gather(*(county(e) for e in manifest.counties))
    return [*cities, *counties]
