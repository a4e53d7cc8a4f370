"""The chart renders, lints and validates for every value set in helm/citylead/ci, and what it
renders is what production needs: hooks, probes, non-root read-only pods, secrets, scaling,
ingress, network policies."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import helm_python
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from kubernetes_validate.utils import all_versions  # type: ignore[import-untyped]

from tests.helm.conftest import CHART, ROOT, VALUE_SETS, Doc, named, of_kind, pod_specs, render, values_of

KUBERNETES = ["1.31.0", "1.32.0", "1.33.0"]
HOOK = {
    "helm.sh/hook": "pre-install,pre-upgrade",
    "helm.sh/hook-weight": "0",
    "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
}


def test_every_value_set_is_a_file_of_ci() -> None:
    assert VALUE_SETS == ["existing-secret", "high-availability", "ingress-tls", "minimal"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_lint_strict_is_clean(value_set: str) -> None:
    report = helm_python.lint(CHART, values_of(value_set), strict=True, namespace="citylead")
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 1 is "icon is recommended"
    assert (report["errors"], problems) == ([], [])


@pytest.mark.parametrize("version", KUBERNETES)
def test_every_object_validates_strictly(docs: list[Doc], version: str) -> None:
    assert len(docs) >= 12
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{doc['kind']} {doc['metadata']['name']} on {version}: {exc.message} at {list(exc.path)}"
            )


def test_kubernetes_validate_has_the_schemas_it_claims() -> None:
    """It falls back to the newest schema not newer than the one asked for: make sure 1.31–1.33
    are real schema sets, and that a wrong object fails (the validation can fail)."""
    assert set(KUBERNETES) <= set(all_versions())
    bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"portz": []}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.33.0", strict=True)


def test_chart_app_version_is_the_project_version() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text("utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert chart["appVersion"] == project["version"]


def test_the_migration_job_is_a_pre_install_and_pre_upgrade_hook(docs: list[Doc]) -> None:
    job = named(docs, "Job", "-migrate")
    assert job["metadata"]["annotations"] == HOOK
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # What the job needs exists before it: its ServiceAccount (and its Secret) are earlier hooks.
    account = named(docs, "ServiceAccount", "-migrate")
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    for early in [account, *(d for d in of_kind(docs, "Secret") if d["metadata"].get("annotations"))]:
        assert early["metadata"]["annotations"]["helm.sh/hook"] == HOOK["helm.sh/hook"]
        assert int(early["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0


def test_every_pod_is_non_root_with_a_read_only_root(docs: list[Doc]) -> None:
    for component, spec in pod_specs(docs):
        assert spec["securityContext"]["runAsNonRoot"] is True, component
        assert spec["securityContext"]["runAsUser"] == 10001, component
        assert spec["automountServiceAccountToken"] is False, component
        for c in spec["containers"]:
            ctx = c["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, component
            assert ctx["allowPrivilegeEscalation"] is False, component
            assert ctx["capabilities"]["drop"] == ["ALL"], component
            assert set(c["resources"]["requests"]) == {"cpu", "memory"}, component
            assert "memory" in c["resources"]["limits"], component


def test_probes_are_health_and_ready_on_the_served_port(docs: list[Doc]) -> None:
    for component, spec in pod_specs(docs):
        if component == "migrate":
            continue
        (c,) = spec["containers"]
        (port,) = c["ports"]
        assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": port["containerPort"]}
        assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": port["containerPort"]}
        flag = "--health-port" if component == "worker" else "--port"
        assert c["args"][c["args"].index(flag) + 1] == str(port["containerPort"])
        assert c["args"][0] == component


def test_high_availability_autoscales_and_spreads(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["high-availability"]
    hpas = {d["metadata"]["name"]: d["spec"] for d in of_kind(docs, "HorizontalPodAutoscaler")}
    assert hpas["cl-citylead-api"]["minReplicas"] == 3
    assert hpas["cl-citylead-api"]["maxReplicas"] == 12
    assert hpas["cl-citylead-api"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 65
    assert set(hpas) == {"cl-citylead-api", "cl-citylead-dashboard"}
    api = named(docs, "Deployment", "-api")
    assert "replicas" not in api["spec"]  # the HPA owns it
    assert named(docs, "Deployment", "-worker")["spec"]["replicas"] == 3
    spread = api["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [s["topologyKey"] for s in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert spread[0]["labelSelector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    assert {d["metadata"]["name"] for d in of_kind(docs, "PodDisruptionBudget")} == {
        "cl-citylead-api",
        "cl-citylead-dashboard",
        "cl-citylead-worker",
    }
    image = api["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "harbor.example.gov.cn/citylead/citylead@sha256:" + "0123456789abcdef" * 4


def test_ingress_routes_the_dashboard_and_api_on_one_host_with_tls(rendered: dict[str, list[Doc]]) -> None:
    ingress = named(rendered["ingress-tls"], "Ingress", "cl-citylead")
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"secretName": "citylead-tls", "hosts": ["citylead.js.example.gov.cn"]}]
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    (rule,) = spec["rules"]
    assert rule["host"] == "citylead.js.example.gov.cn"
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert routes == {
        "/dashboard": "cl-citylead-dashboard",
        "/signin": "cl-citylead-dashboard",
        "/signout": "cl-citylead-dashboard",
        "/": "cl-citylead-api",
    }
    config = named(rendered["ingress-tls"], "ConfigMap", "cl-citylead")["data"]
    assert config["CITYLEAD_PUBLIC_URL"] == "https://citylead.js.example.gov.cn"  # Secure cookies
    assert named(rendered["minimal"], "ConfigMap", "cl-citylead")["data"]["CITYLEAD_PUBLIC_URL"] == (
        "http://citylead.example.gov.cn"
    )


def test_an_existing_secret_is_used_and_no_secret_is_made(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["existing-secret"]
    assert of_kind(docs, "Secret") == []
    assert of_kind(docs, "Ingress") == []
    assert [d["metadata"]["name"] for d in of_kind(docs, "Deployment")] == [
        "cl-citylead-api",
        "cl-citylead-worker",
    ]
    refs = set()
    for _, spec in pod_specs(docs):
        for var in spec["containers"][0]["env"]:
            if "valueFrom" in var:
                ref = var["valueFrom"]["secretKeyRef"]
                refs.add((var["name"], ref["name"], ref["key"]))
    assert ("CITYLEAD_DATABASE_URL", "citylead-prod", "PG_OWNER_URL") in refs  # the migration job
    assert ("CITYLEAD_DATABASE_URL", "citylead-prod", "PG_APP_URL") in refs  # the serving pods
    assert ("CITYLEAD_RABBITMQ_URL", "citylead-prod", "AMQP_URL") in refs
    assert {r[1] for r in refs} == {"citylead-prod"}


def test_serving_pods_never_get_the_owner_url(docs: list[Doc]) -> None:
    owner_key = "PG_OWNER_URL" if not of_kind(docs, "Secret") else "database-url"
    for component, spec in pod_specs(docs):
        keys = {
            v["valueFrom"]["secretKeyRef"]["key"]
            for v in spec["containers"][0].get("env", [])
            if "valueFrom" in v
        }
        assert (owner_key in keys) == (component == "migrate"), component


def test_network_policies_let_in_only_the_ingress_controller(rendered: dict[str, list[Doc]]) -> None:
    docs = rendered["high-availability"]
    policies = {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"]
        for d in of_kind(docs, "NetworkPolicy")
    }
    assert set(policies) == {"api", "dashboard", "worker", "migrate"}
    for component, spec in policies.items():
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        sources = [peer for rule in spec["ingress"] for peer in rule["from"]]
        if component in {"api", "dashboard"}:
            assert sources == [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
                }
            ]
        else:
            assert sources == []

    def ports(component: str) -> set[int]:
        return {p["port"] for rule in policies[component]["egress"] for p in rule["ports"]}

    assert ports("worker") == {53, 5432, 5672, 443, 9000}
    assert ports("api") == {53, 5432, 443, 9000}  # no RabbitMQ: the API only writes the outbox
    assert ports("migrate") == {53, 5432}
    pg = [r for r in policies["migrate"]["egress"] if r["ports"] == [{"port": 5432, "protocol": "TCP"}]]
    assert pg[0]["to"][0]["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "pg"}}


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (("config", "keycloak", "url"), "config.keycloak.url is required"),
        (("secrets", "appDatabaseUrl"), "secrets.appDatabaseUrl"),
        (("secrets", "databaseUrl"), "secrets.databaseUrl"),
        (("secrets", "rabbitmqUrl"), "secrets.rabbitmqUrl"),
        (("config", "blobs", "s3", "bucket"), "config.blobs.s3.bucket is required"),
    ],
)
def test_a_missing_required_value_fails_the_render_naming_it(drop: tuple[str, ...], message: str) -> None:
    values = values_of("minimal")
    parent: dict[str, Any] = values
    for key in drop[:-1]:
        parent = parent[key]
    del parent[drop[-1]]
    with pytest.raises(helm_python.HelmError, match=message.replace(".", r"\.")):
        render(values)


@pytest.mark.parametrize(
    "override",
    [
        {"api": {"replica": 3}},  # a typo
        {"config": {"logLevel": "verbose"}},
        {"worker": {"threads": 0}},
        {"image": {"digest": "latest"}},
    ],
)
def test_the_schema_refuses_unknown_or_wrong_values(override: dict[str, Any]) -> None:
    values = values_of("minimal")
    for key, sub in override.items():
        values.setdefault(key, {}).update(sub)
    with pytest.raises(helm_python.HelmValuesError, match="schema"):
        render(values)


def test_the_schema_describes_every_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text("utf-8"))
    defaults = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))

    def walk(node: dict[str, Any], values: dict[str, Any], at: str) -> None:
        assert node.get("additionalProperties") is False, at
        assert set(values) <= set(node["properties"]), at
        for key, value in values.items():
            sub = node["properties"][key]
            assert sub.get("description") or sub.get("type") == "object", f"{at}.{key}"
            if isinstance(value, dict) and sub.get("additionalProperties") is False:
                walk(sub, value, f"{at}.{key}")

    walk(schema, defaults, "values")
