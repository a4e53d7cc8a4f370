"""Benchmarks print a table and append it to the run's report; `make bench` runs them."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Figure:
    what: str
    n: int
    median_ms: float
    p95_ms: float

    def row(self, baseline: Figure | None = None) -> str:
        ratio = f"{self.median_ms / baseline.median_ms:.2f}×" if baseline else "1.00× (baseline)"
        return f"| {self.what} | {self.n} | {self.median_ms:.3f} | {self.p95_ms:.3f} | {ratio} |"


async def measure(what: str, n: int, fn: Callable[[], Awaitable[object]], *, warmup: int = 20) -> Figure:
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return Figure(what, n, statistics.median(samples), samples[int(n * 0.95) - 1])


def report(title: str, baseline: Figure, *figures: Figure) -> None:
    print(f"\n### {title}\n\n| what | n | median ms | p95 ms | ratio to baseline |\n|---|---|---|---|---|")
    print(baseline.row())
    for f in figures:
        print(f.row(baseline))
