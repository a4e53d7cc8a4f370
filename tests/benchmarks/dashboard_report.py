"""The dashboard benchmark's tables (markdown, printed for docs/benchmarks.md)."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from typing import Any

from tests.benchmarks.conftest import Figure
from tests.benchmarks.dashboard_profile import ReaderProfile
from tests.benchmarks.dashboard_world import PERIODS, World
from tests.benchmarks.onboarding_home import Run

__all__ = ["report_callbacks", "report_readers", "report_rollup", "report_world"]

AIM_MS = 100.0
AIM_ROLLUP_S = 10.0


def _load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def report_world(world: World, sizes: dict[str, int], counts: dict[str, int]) -> None:
    st, base = world.stages, world.stages["base"]
    gen, vol, assess = st["generate"], st["volume"], st["assess"]
    months = [assess[p]["seconds"] for p in PERIODS if p in assess]
    print(f"\n### The world: {gen['cases']:,} cases ({_load()})\n")
    print("| stage | seconds | notes |\n|---|---|---|")
    print(f"| `citylead up` to `/ready` (demo seed) | {base['seed_seconds']:.1f} | 3 cities live |")
    print(
        f"| sample inputs for the manifest | {base['inputs_seconds']:.1f} | untimed in the onboarding bench |"
    )
    onboard = base["onboard"]
    print(
        f"| `citylead onboard manifest` (concurrency 2, 2 processes) | {onboard['seconds']:.1f} | "
        f"{onboard['cities']} cities, {onboard['divisions']} divisions → 95 live |"
    )
    print(f"| copy of the onboarded home | {st['copy_seconds']:.1f} | |")
    print(
        f"| `citylead demo generate --months 12 --cases-per-division-month {gen['per_division_month']} "
        f"--jobs {gen['jobs']}` | {gen['seconds']:.1f} | {gen['cases']:,} cases, {gen['events']:,} events, "
        f"**{gen['cases_per_second']:,} cases/s** ({gen['events'] / gen['reported_seconds']:,.0f} events/s) |"
    )
    if "migrate" in st:
        print(f"| `citylead migrate` | {st['migrate']['seconds']:.1f} | |")
    print(f"| volume roll-up, 95 divisions × 12 months | {vol['seconds']:.1f} | {vol['rows']:,} rows |")
    print(
        f"| `citylead assess run` × {len(months)} month(s) | {sum(months):.1f} | per month "
        f"{min(months):.1f}–{max(months):.1f} s (first {months[0]:.1f}, last {months[-1]:.1f}) |"
    )
    print("\n| relation | size |\n|---|---|")
    for name, size in sizes.items():
        print(f"| {name} | {_mb(size)} |")
    print(f"\n{counts['cases']:,} demo cases; {counts['county_rows']} county rows assessed.")


def report_rollup(
    month: str,
    bare: Sequence[tuple[float, tuple[int, int]]],
    selected: Sequence[tuple[float, tuple[int, int]]],
    empty: Sequence[Run],
    runs: Sequence[Run],
    *,
    first: tuple[Run, int],
) -> None:
    def med(xs: Sequence[float]) -> float:
        return statistics.median(xs)

    base = med([s for s, _ in bare])
    (events, data), (chosen, chosen_data) = bare[0][1], selected[0][1]
    command = f"`citylead assess run --period {month} --tenant 320000`"
    rows: list[tuple[str, int, float, str]] = [
        (f"baseline: read {month}'s case events once ({events:,} events, {_mb(data)})", len(bare), base, ""),
        (
            f"read what the roll-up sums: the month's `assessment_sums` ({chosen:,} rows, "
            f"{_mb(chosen_data)})",
            len(selected),
            med([s for s, _ in selected]),
            "",
        ),
        (
            "`citylead assess run` for a month with no cases (fixed cost: start, 95 divisions)",
            len(empty),
            med([r.seconds for r in empty]),
            ", ".join(f"{r.seconds:.1f}" for r in empty),
        ),
        (
            f"**{command}**",
            len(runs),
            med([r.seconds for r in runs]),
            ", ".join(f"{r.seconds:.1f}" for r in runs),
        ),
    ]
    print(f"\n### One month's roll-up for the province ({_load()})\n")
    print("| what | n | median s | ratio to baseline | runs |\n|---|---|---|---|---|")
    for i, (what, n, seconds, each) in enumerate(rows):
        ratio = "1.00× (baseline)" if i == 0 else f"{seconds / base:.1f}×"
        print(f"| {what} | {n} | {seconds:.2f} | {ratio} | {each} |")
    run, stale = first
    print(
        f"\nBefore these, a first run rebuilt the assessment facts of {stale:,} changed cases "
        f"(all of them after a generation or migration 0015): {run.seconds:.1f} s."
    )
    cpu = med([r.cpu_seconds for r in runs])
    verdict = "met" if med([r.seconds for r in runs]) <= AIM_ROLLUP_S else "**not met**"
    print(f"\nThe command's own CPU (median): {cpu:.1f} s. Aim ≤ {AIM_ROLLUP_S:.0f} s: {verdict}.")


def report_callbacks(health: Figure, results: Sequence[tuple[Figure, int]]) -> None:
    print(f"\n### Dashboard callbacks ({_load()})\n")
    print("| callback | n | median ms | p95 ms | ratio to baseline | answer KB |\n|---|---|---|---|---|---|")
    print(
        f"| {health.what} | {health.n} | {health.median_ms:.1f} | {health.p95_ms:.1f} | 1.00× (baseline) | |"
    )
    over: list[Any] = []
    for f, size in results:
        mark = " ⚠" if f.p95_ms > AIM_MS else ""
        print(
            f"| {f.what}{mark} | {f.n} | {f.median_ms:.1f} | {f.p95_ms:.1f} | "
            f"{f.median_ms / health.median_ms:.0f}× | {size / 1024:,.0f} |"
        )
        if f.p95_ms > AIM_MS:
            over.append(f)
    print(f"\n{len(results) - len(over)} of {len(results)} callbacks within p95 ≤ {AIM_MS:.0f} ms.")


def report_readers(found: Sequence[ReaderProfile]) -> None:
    print(f"\n### The province's readers in process ({_load()})\n")
    print("| reader | ms | in SQL ms | statements | slowest statement ms |\n|---|---|---|---|---|")
    for r in found:
        p = r.profiled
        print(
            f"| {r.what} | {p.seconds * 1000:.1f} | {p.sql_seconds * 1000:.1f} | {len(p.statements)} | "
            f"{p.slowest().ms:.1f} |"
        )
    for r in found:
        sql = r.profiled.slowest().sql[:600]
        print(f"\n{r.what}, slowest statement:\n\n```\n{sql}\n```\n```\n{r.plan}\n```")
