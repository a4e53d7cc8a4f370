"""Helpers shared by tests: building Keycloak-shaped claims and bearer headers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

PUBLIC_URL = "http://citylead.test"
ISSUER = f"{PUBLIC_URL}/idp/realms/citylead"

Mint = Callable[..., str]


def claims_for(username: str, roles: list[str], group: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "citylead",
        "sub": str(uuid.uuid5(uuid.NAMESPACE_DNS, username)),
        "typ": "Bearer",
        "azp": "citylead",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "preferred_username": username,
        "realm_access": {"roles": roles},
        "groups": [group],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
