"""The onboarding benchmarks' tables (markdown, printed), from what ``test_onboarding`` measured."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from tests.benchmarks.onboarding_floor import Profiled, hash_seconds
from tests.benchmarks.onboarding_home import Job, Run
from tests.benchmarks.onboarding_identity import IdentityTimes


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def around(run: Run, job: Job) -> tuple[float, float]:
    """Seconds from the process start to the job's creation, and from its end to the exit."""
    assert job.finished_at is not None
    before = job.created_at.timestamp() - run.started
    after = run.started + run.seconds - job.finished_at.timestamp()
    return before, after


def _row(what: str, cells: Iterable[str]) -> None:
    print(f"| {what} | " + " | ".join(cells) + " |")


def _header(first: str, columns: Iterable[str]) -> None:
    cols = list(columns)
    print(f"| {first} | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))


def report_one_county(
    codes: list[str],
    runs: dict[str, Run],
    jobs: dict[str, Job],
    floors: dict[str, list[float]],
    copies: int,
    migrates: list[Run],
    dry: list[Run],
    checks: list[float],
) -> None:
    floor = median(s for f in floors.values() for s in f)
    js = [jobs[c] for c in codes]
    rs = [runs[c] for c in codes]
    rows: list[tuple[str, list[float]]] = [
        (f"baseline: COPY 300 grid + 20,000 component rows, unlogged (median of {copies})",
         [median(floors[c]) for c in codes]),
        ("job: created → finished (`provisioning_jobs`)", [j.seconds for j in js]),
        ("  sum of the steps' `duration_ms`", [j.step_seconds for j in js]),
        ("  no step running (outbox, relay, broker, claim)", [j.idle_seconds for j in js]),
        ("the command's own \"is live — N s\" (submit → done)", [r.live_seconds() or 0.0 for r in rs]),
        ("whole command, process start → exit", [r.seconds for r in rs]),
        ("  before the job: start, embedded PostgreSQL, migration check, dry run",
         [around(r, j)[0] for r, j in zip(rs, js, strict=True)]),
        ("  after the job: last poll, table, worker and server stop",
         [around(r, j)[1] for r, j in zip(rs, js, strict=True)]),
        ("  the command's own CPU (user + system; PostgreSQL's not included)", [r.cpu_seconds for r in rs]),
        ("`citylead migrate` alone: start, embedded PostgreSQL, roles, migration check, stop",
         [r.seconds for r in migrates]),
        ("the same command with `--dry-run` (check and plan, no job)", [r.seconds for r in dry]),
        ("one check of the request in process (`dry_run`, resolver cold)", checks[::2]),
        ("  the same, resolver warm", checks[1::2]),
    ]  # fmt: skip
    print(
        "\n### One county, registered → live (`citylead onboard county`, embedded PostgreSQL)\n\n"
        "300 grids, 40 units, 20,000 components, template `district`, a first administrator; seconds.\n"
    )
    _header("what", [*codes, "median", "ratio to baseline"])
    for what, values in rows:
        ratio = "1.00× (baseline)" if what.startswith("baseline") else f"{median(values) / floor:.1f}×"
        _row(what, [*(f"{v:.2f}" for v in values), f"{median(values):.2f}", ratio])
    print()
    _header("step (`duration_ms`)", [*codes, "median ms", "÷ job time"])
    job_s = median(j.seconds for j in js)
    for i, st in enumerate(js[0].steps):
        ms = [j.steps[i].duration_ms for j in js]
        if all(m is None for m in ms):
            _row(st.name, [*("skipped" for _ in ms), "–", "–"])
            continue
        values = [float(m or 0) for m in ms]
        med = median(values)
        _row(st.name, [*(f"{v:.0f}" for v in values), f"{med:.0f}", f"{med / 1000 / job_s:.0%}"])
    print(f"\nSlowest step: {', '.join(sorted({j.slowest.name for j in js}))}.")


def report_profile(code: str, p: Profiled) -> None:
    print(
        f"\n### Where the inventory step's time goes (cProfile, in process, {code}'s 20,000 rows, "
        f"rolled back)\n\nUnprofiled: {p.warm_seconds:.2f} s (resolver cold); under cProfile: "
        f"{p.profiled_seconds:.2f} s. Its parts, called one by one (resolver warm):\n"
    )
    _header("part", ["s", "share"])
    total = sum(p.phases_seconds.values())
    for what, s in p.phases_seconds.items():
        _row(what, [f"{s:.3f}", f"{s / total:.0%}"])
    print()
    _header("function (our code, asyncpg)", ["cumulative s"])
    for where, s in p.phases[:16]:
        _row(f"`{where}`", [f"{s:.3f}"])
    print()
    _header("function (any)", ["own s"])
    for where, s in p.own[:10]:
        _row(f"`{where}`", [f"{s:.3f}"])


@dataclass
class Level:
    concurrency: int
    processes: int
    run: Run
    jobs: dict[str, Job]
    cities: list[str]
    divisions: list[str]

    @property
    def label(self) -> str:
        extra = f", {self.processes} processes" if self.processes > 1 else ""
        return f"concurrency {self.concurrency}{extra}"


def _span(jobs: list[Job]) -> float:
    end = max(j.finished_at for j in jobs if j.finished_at is not None)
    return (end - min(j.created_at for j in jobs)).total_seconds()


def report_manifest(
    levels: list[Level], division_alone: float, solo: int, city_alone: float, generated: float
) -> None:
    first = levels[0]
    n_div, n_city = len(first.divisions), len(first.cities)
    print(
        f"\n### Every Jiangsu city and division not yet live, from one manifest\n\n{n_city} cities (template "
        f"`city`) and {n_div} divisions (by level: `district`, `county-city`, `county`), each division 150 "
        f"grids, 20 units, 2,000 components and a first administrator; inputs generated in {generated:.0f} s "
        f"(untimed). Alone, such a division's job takes {division_alone:.2f} s (median of {solo}), the "
        f"南京 city job {city_alone:.2f} s.\n"
    )
    _header("what", (lv.label for lv in levels))
    ideal = [(division_alone * n_div + city_alone * n_city) / lv.concurrency for lv in levels]
    summed = [sum(j.seconds for j in lv.jobs.values()) / lv.concurrency for lv in levels]
    divs = [[lv.jobs[d] for d in lv.divisions] for lv in levels]
    worst = [max(js, key=lambda j: j.seconds) for js in divs]
    _row("baseline: jobs alone × count ÷ concurrency, s", (f"{s:.1f}" for s in ideal))
    _row("whole command, process start → exit, s", (f"**{lv.run.seconds:.1f}**" for lv in levels))
    _row("ratio to baseline", (f"{lv.run.seconds / s:.2f}×" for lv, s in zip(levels, ideal, strict=True)))
    _row("the command's own \"onboarded in N s\"", (f"{(lv.run.manifest_seconds() or (0, 0, 0))[2]:.1f}"
                                                      for lv in levels))  # fmt: skip
    _row("same run: sum of the job times ÷ concurrency, s", (f"{s:.1f}" for s in summed))
    _row(
        "the command's own CPU, s (cores busy on average)",
        (f"{lv.run.cpu_seconds:.0f} ({lv.run.cpu_seconds / lv.run.seconds:.2f})" for lv in levels),
    )
    _row("whole machine busy meanwhile, cores of 2",
         (f"{lv.run.machine_busy / lv.run.seconds:.2f}" for lv in levels))  # fmt: skip
    _row(
        "before the first job: process start, checking every entry, s",
        (f"{min(j.created_at for j in lv.jobs.values()).timestamp() - lv.run.started:.1f}" for lv in levels),
    )
    _row("cities: first created → last finished, s", (f"{_span([lv.jobs[c] for c in lv.cities]):.1f}"
                                                      for lv in levels))  # fmt: skip
    _row("divisions: first created → last finished, s", (f"{_span(js):.1f}" for js in divs))
    _row("division job, median s", (f"{median(j.seconds for j in js):.2f}" for js in divs))
    _row("division job, max s", (f"{j.seconds:.2f}" for j in worst))
    _row("slowest division (its slowest step)", (f"{j.name} {j.code} ({j.slowest.name} "
                                                  f"{j.slowest.duration_ms} ms)" for j in worst))  # fmt: skip
    _row("no step running (outbox, relay, broker, claim), median s per division",
         (f"{median(j.idle_seconds for j in js):.2f}" for js in divs))  # fmt: skip
    print("\nMedian `duration_ms` per division, by step (max in brackets):\n")
    _header("step", (lv.label for lv in levels))
    for i, st in enumerate(divs[0][0].steps):
        cells = []
        for js in divs:
            done = [float(m) for m in (j.steps[i].duration_ms for j in js) if m is not None]
            cells.append(f"{median(done):.0f} ({max(done):.0f})" if done else "skipped")
        _row(st.name, cells)
    print(
        f"\nOne Argon2id hash with the platform's parameters (`hash_password`, median of 5): "
        f"{hash_seconds():.3f} s. The identity step makes two per division: the provisioner client's "
        "secret checked at its token grant, and the first administrator's one-time password hashed."
    )


def report_identity(t: IdentityTimes, codes: list[str]) -> None:
    print(
        f"\n### Where the identity step's time goes (`provision_identity`, embedded provider, in process)\n\n"
        f"A group, the template's four roles and a first administrator for {', '.join(codes)} (not "
        f"onboarded: identity rows only), one after another; the provider started first "
        f"({t.start_seconds:.2f} s, once per worker process). Each call timed from the client; median s.\n"
    )
    _header("part", ["median s", "share"])
    parts = t.parts()
    whole = parts["`provision_identity`, whole"]
    for what, s in parts.items():
        _row(what, [f"{s:.3f}", f"{s / whole:.0%}"])
