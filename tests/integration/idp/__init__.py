"""Tests of the embedded identity provider; shared names of the seeded realm."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from citylead.identity.keys import SigningKeys

REALM = "citylead"
PROVISIONER = "citylead-provisioner"
PROVISIONER_SECRET = "provisioner-" + uuid.uuid4().hex
BACKEND = "citylead-backend"  # confidential, no direct access grants, service account with a realm role
BACKEND_SECRET = "backend-" + uuid.uuid4().hex
PASSWORD = "S3cret-demo-pass"
ALICE_GROUP = "/32/3204/320411"


@dataclass(frozen=True)
class IdpServer:
    server_url: str  # what python-keycloak takes: ends with "/idp/"
    issuer: str
    keys: SigningKeys


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
