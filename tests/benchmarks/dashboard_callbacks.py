"""Driving a Dash app's callbacks over HTTP as the browser does (``_dash-update-component``).

The callbacks are read from the app's own ``_dash-dependencies``, so the benchmark follows the
pages as they change: each callback becomes a request whose inputs and states take the values
given per ``id.property`` (anything not given is ``None``, as on a first render). A
pattern-matching input (``{"type": …, "index": ["ALL"]}``) takes a list of ``(concrete id,
value)`` pairs under its dependency's own key (the id as ``_dash-dependencies`` spells it,
``.property``); none given is an empty list. ``outputs_of`` turns an answer back into
``id.property`` values (and the initial props of a layout it returns), so one callback's answer
can feed the next, as in the browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Callback", "callbacks_of", "find", "outputs_of"]

_MULTI = re.compile(r"^\.\.(.*)\.\.$")


@dataclass(frozen=True)
class Callback:
    name: str  # the outputs, as Dash names the callback
    body: dict[str, Any]  # the JSON POSTed to _dash-update-component

    def triggered_by(self, *prop_ids: str) -> Callback:
        """The same request as if only ``prop_ids`` had changed (what ``ctx.triggered_id`` reads)."""
        return replace(self, body={**self.body, "changedPropIds": list(prop_ids)})

    def produces(self, spec: str) -> bool:
        """Whether ``id.property`` is one of the outputs."""
        return spec == self.name or f"..{spec}.." in self.name


def _split(spec: str) -> tuple[str, str]:
    ident, _, prop = spec.rpartition(".")
    return ident, prop


def _outputs(output: str) -> tuple[list[dict[str, str]] | dict[str, str], bool]:
    multi = _MULTI.match(output)
    if multi is None:
        ident, prop = _split(output)
        return {"id": ident, "property": prop}, False
    parts = [p for p in multi.group(1).split("...") if p]
    return [dict(zip(("id", "property"), _split(p), strict=True)) for p in parts], True


def _argument(dep: dict[str, str], values: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]]:
    key = f"{dep['id']}.{dep['property']}"
    if dep["id"].startswith("{"):  # a pattern-matching (ALL) dependency: one entry per matching id
        return [{"id": ident, "property": dep["property"], "value": v} for ident, v in values.get(key, [])]
    return {"id": dep["id"], "property": dep["property"], "value": values.get(key)}


def _id_text(ident: str | dict[str, Any]) -> str:
    """An id as Dash names it in ``changedPropIds`` (a dict id: JSON with sorted keys)."""
    return json.dumps(ident, separators=(",", ":"), sort_keys=True) if isinstance(ident, dict) else ident


def callbacks_of(dependencies: list[dict[str, Any]], values: dict[str, Any]) -> list[Callback]:
    """One request per server-side callback; ``values`` maps ``"id.property"`` to its value."""
    out = []
    for dep in dependencies:
        if dep.get("clientside_function"):
            continue
        outputs, _ = _outputs(dep["output"])
        inputs = [_argument(i, values) for i in dep["inputs"]]
        state = [_argument(s, values) for s in dep.get("state", [])]
        flat = [a for arg in inputs for a in (arg if isinstance(arg, list) else [arg])]
        changed = [f"{_id_text(a['id'])}.{a['property']}" for a in flat]
        body = {"output": dep["output"], "outputs": outputs, "inputs": inputs, "state": state}
        out.append(Callback(dep["output"], {**body, "changedPropIds": changed}))
    return out


def find(callbacks: list[Callback], spec: str) -> Callback:
    """The callback that produces ``id.property``."""
    found = [c for c in callbacks if c.produces(spec)]
    if len(found) != 1:
        raise LookupError(f"{len(found)} callbacks produce {spec}")
    return found[0]


def outputs_of(answer: dict[str, Any]) -> dict[str, Any]:
    """``id.property`` → value from a ``_dash-update-component`` answer, with the initial props of
    every component in a layout it returns (a page's dropdown defaults), as the renderer keeps them."""
    out: dict[str, Any] = {}
    for ident, props in answer.get("response", {}).items():
        for prop, value in props.items():
            out[f"{ident}.{prop}"] = value
            _initial_props(value, out)
    return out


def _initial_props(tree: Any, out: dict[str, Any]) -> None:
    if isinstance(tree, list):
        for child in tree:
            _initial_props(child, out)
    elif isinstance(tree, dict) and isinstance(tree.get("props"), dict):
        props = tree["props"]
        if isinstance(props.get("id"), str):
            out.update({f"{props['id']}.{k}": v for k, v in props.items() if k not in ("id", "children")})
        _initial_props(props.get("children"), out)
