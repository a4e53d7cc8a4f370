"""What a signed-in user does on the dashboard, as a list of timed callbacks (看板操作).

Each page is opened the way the browser opens it: the page's first callback answers, and its
outputs (the period chosen, the places, the ranking's rows) feed the next callbacks, as Dash's
renderer would pass them. ``Step``s are built by walking each flow once (untimed); the benchmark
then times each step's request on its own.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.benchmarks.dashboard_callbacks import Callback, callbacks_of, find, outputs_of

__all__ = ["Flow", "Step", "flows"]

Post = Callable[[Callback], Awaitable[dict[str, Any]]]
ROW_ID = json.dumps({"index": 0, "type": "performance-row"}, separators=(",", ":"), sort_keys=True)
ROWS = '{"index":["ALL"],"type":"performance-row"}.n_clicks'  # as _dash-dependencies names it


@dataclass(frozen=True)
class Step:
    user: str
    what: str  # page: callback · where, as the report names it
    callback: Callback


class Flow:
    """One user's walk through the pages; ``call`` posts a callback and keeps its outputs."""

    def __init__(self, user: str, deps: list[dict[str, Any]], post: Post) -> None:
        self.user, self.deps, self.post = user, deps, post
        self.values: dict[str, Any] = {}
        self.steps: list[Step] = []

    def request(
        self, spec: str, trigger: str | None = None, values: dict[str, Any] | None = None
    ) -> Callback:
        """The callback producing ``spec`` with the values so far (updated by ``values``);
        ``trigger``: the one input that changed, where the callback asks which."""
        self.values.update(values or {})
        cb = find(callbacks_of(self.deps, self.values), spec)
        return cb.triggered_by(trigger) if trigger else cb

    async def call(
        self, what: str, spec: str, trigger: str | None = None, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        cb = self.request(spec, trigger, values)
        out = outputs_of(await self.post(cb))
        self.steps.append(Step(self.user, what, cb))
        self.values.update(out)
        return out

    async def export(self, what: str, prefix: str) -> None:
        """The CSV button of ``export_controls(prefix)`` pressed once."""
        button = f"{prefix}-csv.n_clicks"
        await self.call(what, f"{prefix}-download.data", button, {button: 1})


async def performance(flow: Flow, scope: str | None, where: str, *, first: bool) -> None:
    """The Performance page at ``scope`` (None: the user's own tenant): scope → ranking → trend;
    where ``first``, also a row's detail and the export."""
    page = "performance"
    await flow.call(f"{page}: scope, periods, places · {where}", "performance-places.data", None,
                    {"performance-scope.data": scope})  # fmt: skip
    level = flow.values["performance-level.value"]
    out = await flow.call(f"{page}: ranking of {level} · {where}", "performance-rank.figure")
    await flow.call(f"{page}: 12-month trend · {where}", "performance-trend.figure")
    if first:
        rows = out["performance-rows.data"]
        assert rows, f"no {level} ranked at {where}: is the world assessed?"
        clicks = [({"index": i, "type": "performance-row"}, int(i == 0)) for i in range(len(rows))]
        await flow.call(f"{page}: a row's detail · {where}", "performance-detail.children",
                        f"{ROW_ID}.n_clicks", {ROWS: clicks})  # fmt: skip
        await flow.export(f"{page}: export CSV of {level} · {where}", "performance-export")


async def flows(
    user: str, deps: list[dict[str, Any]], post: Post, *, city: str | None, county: str, period: str
) -> list[Step]:
    """Every page for ``user``: its own tenant, then ``city`` (if the user is above one) and
    ``county`` chosen for the drill-down. ``period``: the month the volume figures show."""
    flow = Flow(user, deps, post)
    for page in ("", "performance", "cases"):
        await flow.call(f"shell: page layout /dashboard/{page}", "app-page.children", None,
                        {"app-location.pathname": f"/dashboard/{page}"})  # fmt: skip
    await flow.call("shell: who is signed in", "app-user.children", None, {"app-user.id": "app-user"})

    places: list[tuple[str, str | None]] = [("own", None)]
    places += [(f"city {city}", city)] if city else []
    places += [(f"county {county}", county)]
    for where, scope in places[: 2 if city else 1]:  # the page chooses cities only
        await flow.call(f"coverage: map, levels, velocity, table · {where}", "coverage-map.figure", None,
                        {"coverage-city.value": scope})  # fmt: skip
    flow.values["coverage-city.value"] = None
    await flow.export("coverage: export CSV · own", "coverage-export")

    for i, (where, scope) in enumerate(places):
        if scope is not None:  # chosen in the drill-down list, as the user would
            drill = flow.request("performance-scope.data", "performance-drill.value",
                                 {"performance-drill.value": scope})  # fmt: skip
            assert outputs_of(await post(drill))["performance-scope.data"] == scope
            flow.steps.append(Step(user, f"performance: drill-down choice · {where}", drill))
        await performance(flow, scope, where, first=i == 0)

    await flow.call("cases: choices", "cases-period.options", None, {"cases-tenant.id": "cases-tenant"})
    for where, scope in places:
        flow.values.update({"cases-period.value": period, "cases-tenant.value": scope})
        flow.values["cases-clock.n_intervals"] = 1
        await flow.call(f"cases: volume by class and grid, {period} · {where}", "cases-classes.figure")
        await flow.call(f"cases: timer lights and overdue list · {where}", "cases-lights.figure")
    flow.values["cases-tenant.value"] = None
    for name in ("class", "lights", "overdue"):
        await flow.export(f"cases: export {name} CSV · own", f"cases-{name}-export")
    return flow.steps
