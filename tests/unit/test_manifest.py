"""Province manifests: their shape checks, and how entries run (cities first, bounded, failures
contained). The runner here is a plain coroutine: the real pipeline is in the integration tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from provisioning.manifest import Entry, Outcome, load_manifest, run_entries
from tenants.errors import InvalidInput


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


def test_shape_problems_name_the_entry_and_field(tmp_path: Path) -> None:
    (tmp_path / "g.geojson").write_text("{}", "utf-8")
    doc = {
        "province": "320000",
        "cities": [
            {
                "code": "320100",
                "template": "city",
                "counties": [
                    {"code": "320102", "template": "district", "grids": "g.geojson"},
                    {"code": "32010", "template": "district"},  # five digits
                    {"code": "320105", "grids": "missing.geojson", "colour": "red"},
                ],
            }
        ],
        "counties": [{"code": "320102", "city": "320400", "template": "district"}],  # repeated code
    }
    manifest = load_manifest(_write(tmp_path, doc))
    assert manifest.concurrency == 2
    by_where = {e.where: e for e in manifest.entries}
    good = by_where["cities[0].counties[0]"]
    assert good.request is not None and good.request.parent == "320100"
    assert good.request.files["grids"].media_type == "application/geo+json"
    assert [p.field for p in by_where["cities[0].counties[1]"].problems] == ["cities[0].counties[1].code"]
    third = {p.field for p in by_where["cities[0].counties[2]"].problems}
    assert third == {
        "cities[0].counties[2].template",
        "cities[0].counties[2].grids",
        "cities[0].counties[2].colour",
    }
    assert [p.rule for p in by_where["counties[0]"].problems] == ["also at cities[0].counties[0]"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"province": "320100", "counties": []}, "province must be"),
        ({"province": "320000"}, "lists no cities and no counties"),
        ({"province": "320000", "concurrency": 99, "counties": [{}]}, "concurrency"),
        (["not", "a", "mapping"], "a manifest is a mapping"),
    ],
)
def test_not_a_manifest(tmp_path: Path, doc: object, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        load_manifest(_write(tmp_path, doc))
    assert message in info.value.detail


def test_cities_first_bounded_and_a_failed_city_skips_its_counties(tmp_path: Path) -> None:
    doc = {
        "province": "320000",
        "concurrency": 2,
        "cities": [
            {"code": "320100", "template": "city", "counties": [{"code": "320102", "template": "district"}]},
            {"code": "320300", "template": "city", "counties": [{"code": "320302", "template": "district"}]},
        ],
        "counties": [
            {"code": "320481", "city": "320400", "template": "county-city"},
            {"code": "320482", "city": "320400", "template": "county-city"},
        ],
    }
    manifest = load_manifest(_write(tmp_path, doc))
    started: list[str] = []
    running = 0
    most = 0

    async def run(entry: Entry) -> Outcome:
        nonlocal running, most
        assert entry.request is not None
        started.append(entry.request.code)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        failed = entry.request.code in ("320300", "320481")
        return Outcome(entry, "failed" if failed else "succeeded")

    outcomes = asyncio.run(run_entries(manifest, run))
    assert set(started[:2]) == {"320100", "320300"}  # cities before any county
    assert most == 2
    states = {o.entry.request.code: o.state for o in outcomes if o.entry.request}
    assert states == {
        "320100": "succeeded",
        "320300": "failed",
        "320102": "succeeded",
        "320302": "skipped",  # its city failed
        "320481": "failed",  # a failure does not stop its neighbour
        "320482": "succeeded",
    }
    assert "320302" not in started
