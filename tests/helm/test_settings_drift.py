"""No drift between the settings code and the chart: every variable the chart sets is one the code
reads, every setting production needs is set, and each pod's environment passes the code's own
validation (platform/citylead/settings.py, loaded the way the processes load it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from citylead import settings as settings_module
from citylead.settings import Settings
from provisioning.identity import target_from_settings
from tests.helm.conftest import ROOT, Doc, container_env, named, pod_specs, values_of

SOURCES = [ROOT / "platform", ROOT / "provisioning", ROOT / "dashboard", ROOT / "tenants"]
# Reads of an environment variable outside the settings classes: a click option's envvar=, or
# os.environ / os.getenv with a literal name (writes, `os.environ[X] = …`, are not reads).
ENV_READS = re.compile(
    r"""envvar\s*=\s*["'](?P<a>\w+)["']"""
    r"""|os\.environ\.get\(\s*["'](?P<b>\w+)["']"""
    r"""|os\.getenv\(\s*["'](?P<c>\w+)["']"""
    r"""|os\.environ\[\s*["'](?P<d>\w+)["']\s*\](?!\s*=[^=])"""
)

COMMON = {
    "CITYLEAD_DATABASE_URL",
    "CITYLEAD_APP_DATABASE_URL",
    "CITYLEAD_IDENTITY",
    "CITYLEAD_KEYCLOAK_URL",
    "CITYLEAD_PUBLIC_URL",
    "CITYLEAD_HOME",
    "CITYLEAD_BLOB_STORE",
}
REQUIRED = {
    "api": COMMON,
    "dashboard": COMMON,
    "worker": COMMON | {"CITYLEAD_BROKER", "CITYLEAD_RABBITMQ_URL", "CITYLEAD_KEYCLOAK_ADMIN_CLIENT_SECRET"},
    "migrate": {"CITYLEAD_DATABASE_URL", "CITYLEAD_DB_APP_ROLE", "CITYLEAD_DB_OWNER_ROLE"},
}


def settings_env_names() -> set[str]:
    """``CITYLEAD_<FIELD>`` of every settings class (pydantic-settings: prefix + field name)."""
    names = set()
    for obj in vars(settings_module).values():
        if isinstance(obj, type) and issubclass(obj, BaseSettings) and obj is not BaseSettings:
            prefix = obj.model_config.get("env_prefix", "")
            names |= {f"{prefix}{field}".upper() for field in obj.model_fields}
    return names


def other_env_reads() -> set[str]:
    found = set()
    for source in SOURCES:
        for path in source.rglob("*.py"):
            for m in ENV_READS.finditer(path.read_text("utf-8")):
                found.add(next(v for v in m.groups() if v))
    return found


def known_names() -> set[str]:
    return settings_env_names() | other_env_reads()


def test_the_code_s_names_are_found() -> None:
    """The introspection itself: fields of several classes, and click's envvar of `citylead api`."""
    names = known_names()
    assert {
        "CITYLEAD_DATABASE_URL",
        "CITYLEAD_KEYCLOAK_URL",
        "CITYLEAD_RABBITMQ_URL",
        "CITYLEAD_S3_BUCKET",
    } <= names
    assert "CITYLEAD_WEB_CONCURRENCY" in other_env_reads()
    assert "CITYLEAD_NOT_A_SETTING" not in names
    assert ENV_READS.search('os.environ["CITYLEAD_X"] = url') is None


def _containers(docs: list[Doc]) -> list[tuple[str, Doc]]:
    return [(component, c) for component, spec in pod_specs(docs) for c in spec["containers"]]


def test_every_variable_the_chart_sets_is_read_by_the_code(docs: list[Doc]) -> None:
    known = known_names()
    for component, container in _containers(docs):
        unknown = sorted(set(container_env(docs, container)) - known)
        assert unknown == [], f"{component} sets variables no code reads: {unknown}"
    config = named(docs, "ConfigMap", "cl-citylead")["data"]
    assert sorted(set(config) - known) == []


def test_every_required_setting_is_set(docs: list[Doc]) -> None:
    seen = set()
    for component, container in _containers(docs):
        env = container_env(docs, container)
        missing = REQUIRED[component] - set(env)
        assert missing == set(), f"{component} lacks {sorted(missing)}"
        if component != "migrate":
            store = env["CITYLEAD_BLOB_STORE"]
            assert {"s3": "CITYLEAD_S3_BUCKET", "local": "CITYLEAD_BLOB_DIR"}[store] in env, component
        seen.add(component)
    assert {"api", "worker", "migrate"} <= seen


def test_every_pod_s_environment_passes_the_settings_validation(
    docs: list[Doc], value_set: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each container's environment, loaded by the code's own Settings(): Keycloak identity, the
    app role's URL, RabbitMQ and the provisioning client for the worker, the bucket for photos."""
    for component, container in _containers(docs):
        env = container_env(docs, container)
        for name in list(os.environ):
            if name.startswith("CITYLEAD_"):
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = Settings()  # raises on what production must not run with
        assert settings.database.database_url is not None, component
        if component == "migrate":
            continue
        assert settings.database.app_database_url == settings.database.database_url, component
        assert settings.identity.identity == "keycloak", component
        realm = values_of(value_set).get("config", {}).get("keycloak", {}).get("realm", "citylead")
        assert settings.issuer == f"{env['CITYLEAD_KEYCLOAK_URL'].rstrip('/')}/realms/{realm}", component
        assert settings.home == Path(env["CITYLEAD_HOME"]), component
        if settings.blobs.blob_store == "s3":
            assert settings.blobs.s3_bucket, component
        if component == "worker":
            assert settings.jobs.broker == "rabbitmq"
            target = target_from_settings(settings, embedded_server_url=None)  # onboarding's identity step
            assert target.client_id == "citylead-provisioner"


def test_citylead_home_and_tmp_are_writable_volumes(docs: list[Doc]) -> None:
    for component, container in _containers(docs):
        env = container_env(docs, container)
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", env["CITYLEAD_HOME"]} <= mounts, component  # noqa: S108 - the mount itself
        if env.get("CITYLEAD_BLOB_STORE") == "local":
            assert env["CITYLEAD_BLOB_DIR"] in mounts, component


def test_every_pod_runs_a_citylead_command_with_options_it_has(docs: list[Doc]) -> None:
    """The containers' args parse with the real `citylead` commands (click refuses an unknown option
    or a bad value), so a renamed flag fails here, not in a crash-looping pod."""
    import click

    from citylead.cli import main

    for component, container in _containers(docs):
        name, *rest = container["args"]
        command = main.get_command(click.Context(main), name)
        assert command is not None, f"{component}: no command `citylead {name}`"
        with command.make_context(name, list(rest)) as ctx:
            port = ctx.params.get("health_port") or ctx.params.get("port")
        if port is not None:
            assert [p["containerPort"] for p in container["ports"]] == [port], component
