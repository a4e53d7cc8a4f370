"""Apply Alembic migrations (synchronous entry points: Alembic's env runs its own event loop)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from citylead.db.roles import DatabaseUrls

__all__ = ["alembic_config", "head_revision", "is_known_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(urls: DatabaseUrls | None = None, *, app_role: str = "citylead_app") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if urls is not None:
        cfg.attributes["url"] = urls.owner
        cfg.attributes["owner_role"] = urls.owner_role
    cfg.attributes["app_role"] = app_role
    return cfg


def upgrade(urls: DatabaseUrls, *, app_role: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; the migrations grant the application role what it needs."""
    command.upgrade(alembic_config(urls, app_role=app_role), revision)


@lru_cache(maxsize=1)
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


@lru_cache(maxsize=64)
def is_known_revision(revision: str) -> bool:
    """Whether this code ships ``revision``; a database at an unknown one is ahead of the code
    (a rolling upgrade migrated it for the next release)."""
    script = ScriptDirectory.from_config(alembic_config())
    return revision in {r.revision for r in script.walk_revisions()}
