"""The chart rendered offline (helm-python-sdk: Helm's own engine, no cluster, no helm binary) once
per value set in ``helm/citylead/ci``, and helpers to read the rendered objects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "citylead"
VALUE_SETS = sorted(p.stem.removesuffix("-values") for p in (CHART / "ci").glob("*-values.yaml"))
RELEASE, NAMESPACE = "cl", "citylead"

Doc = dict[str, Any]

helm_python.disable_logging()  # lint's "missing required value" chatter on stderr


def values_of(value_set: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "ci" / f"{value_set}-values.yaml").read_text("utf-8"))
    return loaded


def render(values: dict[str, Any]) -> list[Doc]:
    """Every object the chart makes with ``values`` (NOTES.txt left out)."""
    with helm_python.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs: list[Doc] = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Doc]]:
    """The objects of every value set, rendered once for the whole session."""
    return {name: render(values_of(name)) for name in VALUE_SETS}


@pytest.fixture(params=VALUE_SETS)
def value_set(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def docs(rendered: dict[str, list[Doc]], value_set: str) -> list[Doc]:
    return rendered[value_set]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, suffix: str) -> Doc:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, f"{kind} *{suffix}: {[d['metadata']['name'] for d in of_kind(docs, kind)]}"
    return found[0]


def pod_specs(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    """(component, pod spec) of every Deployment and Job."""
    for d in docs:
        if d["kind"] in {"Deployment", "Job"}:
            yield d["metadata"]["labels"]["app.kubernetes.io/component"], d["spec"]["template"]["spec"]


def container_env(docs: list[Doc], container: Doc) -> dict[str, str]:
    """The container's environment: values, ConfigMap entries (envFrom), and secret references
    resolved from the chart's Secrets (``<secret:key>`` when the Secret is the operator's own)."""
    env: dict[str, str] = {}
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in of_kind(docs, "ConfigMap")}
    secrets = {d["metadata"]["name"]: d.get("stringData", {}) for d in of_kind(docs, "Secret")}
    for source in container.get("envFrom", []):
        env.update(configmaps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        data = secrets.get(ref["name"])
        if data is not None and ref["key"] not in data:
            assert ref.get("optional"), f"{var['name']}: key {ref['key']} missing from Secret {ref['name']}"
            continue
        env[var["name"]] = str(data[ref["key"]]) if data is not None else f"<{ref['name']}:{ref['key']}>"
    return env
