"""`citylead up` as a user runs it: a subprocess on a free port with a temporary home and the
embedded PostgreSQL; sign in through the identity provider's token endpoint; list tenants."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

TOKEN = "/idp/realms/citylead/protocol/openid-connect/token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLEAD_")}
    env["CITYLEAD_HOME"] = str(home)
    return env


def _citylead(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a ``citylead`` command to completion, as a user would from a shell."""
    return subprocess.run(
        [sys.executable, "-m", "citylead", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class Up:
    def __init__(self, home: Path, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = home.parent / f"up-{port}-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "citylead", "up", "--port", str(port)],
            env=_env(home),
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def wait_ready(self, timeout: float = 120) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                pytest.fail(f"citylead up exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return time.monotonic() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"not ready after {timeout} s:\n{self.output()}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"citylead up did not stop on Ctrl-C:\n{self.output()}")


def _sign_in(base: str, username: str) -> str:
    resp = httpx.post(
        base + TOKEN,
        data={
            "grant_type": "password",
            "client_id": "citylead",
            "username": username,
            "password": "citylead-demo",
        },
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def test_sign_in_and_list_tenants(running: Up) -> None:
    token = _sign_in(running.base, "province_supervisor@320000")
    headers = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{running.base}/api/v1/me", headers=headers).json()
    assert me["tenant"]["code"] == "320000" and me["tenant"]["name"] == "江苏省"
    assert me["name"] == "省级督查员 江苏省" and me["roles"] == [
        {"code": "province_supervisor", "label": "省级督查员"}
    ]
    body = httpx.get(
        f"{running.base}/api/v1/tenants?level=prefecture_city&page_size=100", headers=headers
    ).json()
    assert body["total"] == 13
    live = httpx.get(f"{running.base}/api/v1/tenants?status=live&page_size=500", headers=headers).json()
    live_codes = {t["code"] for t in live["items"]}
    assert {"320400", "320402", "320404", "320411", "320412", "320413", "320481"} <= live_codes
    assert len({c for c in live_codes if c.endswith("00") and c != "320000"}) >= 3  # three cities live


def test_a_county_user_sees_only_its_county(running: Up) -> None:
    token = _sign_in(running.base, "dispatcher@320411")
    body = httpx.get(f"{running.base}/api/v1/tenants", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["code"] for t in body["items"]] == ["320411"]


def test_wrong_password_is_refused(running: Up) -> None:
    resp = httpx.post(
        running.base + TOKEN,
        data={
            "grant_type": "password",
            "client_id": "citylead",
            "username": "city_admin@320400",
            "password": "nope",
        },
    )
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_grant"


def test_openapi_and_banner(running: Up) -> None:
    schema = httpx.get(f"{running.base}/schema/openapi.json").json()
    assert "/api/v1/tenants" in schema["paths"]
    out = running.output()
    assert "citylead is up" in out and "province_supervisor@320000" in out and "citylead-demo" in out


def test_ctrl_c_stops_cleanly_and_a_second_start_keeps_the_data(running: Up, home: Path) -> None:
    assert running.stop() == 0
    assert "citylead stopped" in running.output()
    assert not (home / "pgdata" / "postmaster.pid").exists()  # the embedded server stopped too
    again = Up(home, _free_port())
    try:
        again.wait_ready()
        token = _sign_in(again.base, "city_admin@320400")  # same users, same signing key
        body = httpx.get(f"{again.base}/api/v1/tenants", headers={"Authorization": f"Bearer {token}"}).json()
        assert body["total"] == 7
        assert "Registered province" not in again.output()  # not seeded twice
    finally:
        assert again.stop() == 0


def test_port_in_use_is_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = _citylead(tmp_path / "home", "up", "--port", str(port))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in out and "Traceback" not in out


def test_unusable_data_directory_is_a_clear_message(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    proc = _citylead(not_a_dir / "home", "up", "--port", str(_free_port()))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "cannot create the data directory" in out and "Traceback" not in out


def test_registry_load_registers_another_province_idempotently(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.mktemp("registry")
    base.chmod(0o755)

    def load() -> str:
        proc = _citylead(base / "home", "registry", "load", "340000", timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    first = load()
    assert "Province 340000: 121 registered, 0 refreshed" in first  # 安徽省: 1 + 16 cities + 104 divisions
    assert "prefecture_city" in first and "16" in first
    assert "Province 340000: 0 registered, 121 refreshed" in load()
