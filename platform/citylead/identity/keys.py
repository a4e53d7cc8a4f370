"""RS256 signing keys of the embedded identity provider, persisted in the data directory."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from jwcrypto import jwk, jwt

__all__ = ["SigningKeys"]


class SigningKeys:
    """One active RSA key (with a ``kid``); the JWKS publishes its public half."""

    def __init__(self, key: jwk.JWK) -> None:
        self.key = key
        self.kid: str = key["kid"]
        self.public_jwks = jwk.JWKSet()
        self.public_jwks.add(jwk.JWK(**key.export_public(as_dict=True)))

    @classmethod
    def generate(cls) -> SigningKeys:
        return cls(jwk.JWK.generate(kty="RSA", size=2048, kid=uuid.uuid4().hex, use="sig", alg="RS256"))

    @classmethod
    def load_or_create(cls, directory: Path) -> SigningKeys:
        """Load ``directory/signing-key.json``, creating it (mode 0600) on first use."""
        path = directory / "signing-key.json"
        if path.exists():
            return cls(jwk.JWK.from_json(path.read_text("utf-8")))
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = cls.generate()
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(keys.key.export_private())
        tmp.replace(path)
        return keys

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document (``certs`` endpoint)."""
        doc: dict[str, Any] = json.loads(self.public_jwks.export(private_keys=False))
        return doc

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        token = jwt.JWT(header={"alg": "RS256", "typ": typ, "kid": self.kid}, claims=claims)
        token.make_signed_token(self.key)
        return str(token.serialize())

    @staticmethod
    def now() -> int:
        return int(time.time())
