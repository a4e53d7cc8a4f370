"""Preparing a process to run: the database (embedded or given), roles, migrations, keys."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from citylead.db import Database
from citylead.db.embedded import EmbeddedPostgres, start_embedded
from citylead.db.migrate import upgrade
from citylead.db.roles import DatabaseUrls, bootstrap
from citylead.identity.keys import SigningKeys
from citylead.settings import Settings
from tenants.errors import ServiceUnavailable

__all__ = ["Runtime", "prepare", "provisioner_secret"]

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    urls: DatabaseUrls
    embedded: EmbeddedPostgres | None

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()

    @asynccontextmanager
    async def owner_database(self) -> AsyncIterator[Database]:
        """The owner role, for maintenance (registry loads, the demo seed); never for serving."""
        db = Database(self.urls.owner, role=self.urls.owner_role, pool_size=1)
        try:
            yield db
        finally:
            await db.dispose()


def prepare(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Start the embedded server if no URL is set, make sure both roles exist, migrate to head."""
    db = settings.database
    embedded = None
    if db.database_url is None:
        embedded = start_embedded(settings.home)
        admin_url, database = embedded.admin_url, db.database_name
    else:
        admin_url, database = db.database_url.get_secret_value(), None
    try:
        urls = asyncio.run(
            bootstrap(
                admin_url,
                owner_role=db.db_owner_role,
                app_role=db.db_app_role,
                app_password=db.db_app_password.get_secret_value() if db.db_app_password else None,
                database=database,
                app_url=db.app_database_url.get_secret_value() if db.app_database_url else None,
            )
        )
        if migrate:
            try:
                upgrade(urls, app_role=db.db_app_role)
            except SQLAlchemyError as exc:
                cause = getattr(exc, "orig", None) or exc
                raise ServiceUnavailable(
                    f"the database migration failed, nothing was applied: {cause}"
                ) from exc
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    return Runtime(urls, embedded)


def _secret_file(path: Path) -> str:
    if path.exists():
        return path.read_text("utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value


def provisioner_secret(settings: Settings) -> str:
    """The embedded provider's provisioner-client secret: from the setting, else persisted once."""
    if settings.identity.idp_provisioner_secret is not None:
        return settings.identity.idp_provisioner_secret.get_secret_value()
    return _secret_file(settings.home / "idp" / "provisioner-secret")


def signing_keys(settings: Settings) -> SigningKeys:
    return SigningKeys.load_or_create(settings.home / "idp")
