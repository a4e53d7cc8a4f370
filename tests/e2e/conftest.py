"""End-to-end fixtures: each test module gets its own home and its own `citylead up`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_up import Up, _free_port


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("up")
    base.chmod(0o755)
    return base / "home"


@pytest.fixture(scope="module")
def running(home: Path) -> Iterator[Up]:
    up = Up(home, _free_port())
    up.wait_ready()
    yield up
    if up.proc.poll() is None:
        up.stop()
