"""The Dockerfile builds what the chart runs: the `citylead` command as ENTRYPOINT, as the
non-root user the pods run as, from every package pyproject.toml ships (no Docker engine here, so
the file itself is checked)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib

from tests.helm.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text("utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def test_the_runtime_stage_runs_as_uid_10001() -> None:
    stages = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)
    assert len(stages) == 3  # preamble, build, runtime
    (user,) = re.findall(r"^USER\s+(\S+)$", stages[-1], flags=re.MULTILINE)
    uid, _, gid = user.partition(":")
    assert (uid, gid) == ("10001", "10001")  # numeric: runAsNonRoot can verify it; the chart's runAsUser


def test_the_entrypoint_is_the_project_s_command() -> None:
    (entrypoint,) = instructions("ENTRYPOINT")
    command = json.loads(entrypoint)
    assert command == ["citylead"]
    assert command[0] in PYPROJECT["project"]["scripts"]
    cmd = json.loads(instructions("CMD")[0])
    assert cmd[0] == "api"


def test_every_shipped_package_is_copied_and_not_ignored() -> None:
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    tops = {"platform" if p == "citylead*" else p.rstrip("*") for p in find["include"]}
    copied = {line.split()[0] for line in instructions("COPY") if "--from" not in line}
    assert tops <= copied
    assert {"pyproject.toml", "README.md"} <= {w for line in instructions("COPY") for w in line.split()}
    ignored = [
        p.strip() for p in (ROOT / ".dockerignore").read_text("utf-8").splitlines() if p and p[0] != "#"
    ]
    for path in [*tops, "pyproject.toml", "README.md"]:
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), path
    assert {"tests", ".venv", ".git"} <= set(ignored)


def test_no_dev_or_test_extras_are_installed() -> None:
    installs = [line for line in DOCKERFILE.splitlines() if "pip install" in line or "pip wheel" in line]
    assert installs
    assert not any("[" in line for line in installs)  # `.[test,dev]` would pull pytest, mypy, helm
