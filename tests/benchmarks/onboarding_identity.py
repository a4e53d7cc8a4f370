"""Where the identity step's time goes: ``provision_identity`` (身份开通) against the embedded
provider, started in this process on a home's database as a worker starts it, with every HTTP call
python-keycloak makes timed from the client's side."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import requests

from citylead.db.roles import DatabaseUrls
from citylead.identity.idp.serve import PROVISIONER_CLIENT, EmbeddedIdpServer
from citylead.identity.keys import SigningKeys
from provisioning.identity import FirstAdmin, IdentityTarget, provision_identity

ROLES = ["county_admin", "shift_lead", "dispatcher", "department"]  # the district template's
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # under the realm, ids replaced by {id}
    status: int
    seconds: float


@dataclass(frozen=True)
class IdentityTimes:
    start_seconds: float  # the embedded provider's start (once per worker process)
    totals: list[float]  # one provision_identity per division
    calls: list[list[Call]]  # its HTTP calls, in order

    def parts(self) -> dict[str, float]:
        """Median seconds per division: the token grant, the user's creation, the other calls, and
        what is outside the calls (python-keycloak)."""
        rows: dict[str, list[float]] = {}
        for total, calls in zip(self.totals, self.calls, strict=True):
            token = [c for c in calls if c.path.endswith("/token")]
            user = [c for c in calls if c.method == "POST" and c.path == "/users"]
            other = [c for c in calls if c not in token and c not in user]
            for what, s in (
                ("`POST …/token` (client credentials: the secret checked with Argon2id)", _sum(token)),
                ("`POST …/users` (with the one-time password: hashed with Argon2id)", _sum(user)),
                (f"the other {len(other)} Admin REST calls", _sum(other)),
                ("outside the calls (python-keycloak, this process)", total - _sum(calls)),
                ("`provision_identity`, whole", total),
            ):
                rows.setdefault(what, []).append(s)
        return {what: statistics.median(v) for what, v in rows.items()}


def _sum(calls: list[Call]) -> float:
    return sum(c.seconds for c in calls)


@contextmanager
def _timed_requests(into: list[Call]) -> Iterator[None]:
    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        response = original(self, method, url, *args, **kwargs)
        path = _ID.sub("{id}", url.split("/realms/citylead", 1)[-1].split("?", 1)[0])
        into.append(Call(method, path, response.status_code, time.perf_counter() - t0))
        return response

    with mock.patch.object(requests.Session, "request", request):
        yield


def identity_times(home: Path, urls: DatabaseUrls, city_path: str, codes: list[str]) -> IdentityTimes:
    """Provision the group, the roles and a first administrator for each of ``codes`` (divisions of
    the city at ``city_path`` not onboarded: this writes identity rows only)."""
    secret = (home / "idp" / "provisioner-secret").read_text("utf-8").strip()
    t0 = time.perf_counter()
    server = EmbeddedIdpServer(urls.app, keys=SigningKeys.load_or_create(home / "idp"), realm="citylead")
    target = IdentityTarget(server.start().rstrip("/") + "/", "citylead", PROVISIONER_CLIENT, secret)
    started = time.perf_counter() - t0
    totals, calls = [], []
    try:
        for code in codes:
            made: list[Call] = []
            admin = FirstAdmin(
                username=f"bench@{code}.example.cn", email=f"bench@{code}.example.cn", role="county_admin",
                temporary_password="Bench-one-time-1", first_name="bench", last_name=code,
            )  # fmt: skip
            with _timed_requests(made):
                t0 = time.perf_counter()
                report = provision_identity(
                    target, group_path=f"{city_path.rstrip('/')}/{code}", roles=ROLES, admin=admin
                )
                totals.append(time.perf_counter() - t0)
            assert report.user_created, report
            calls.append(made)
    finally:
        server.stop()
    return IdentityTimes(started, totals, calls)
