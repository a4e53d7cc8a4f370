from sqlalchemy import text

from citylead.db import Database
from tenants.context import TenantContext
from tenants.models import Tenant


async def test_app_role_sees_only_its_subtree(app_db: Database, registry: dict[str, Tenant]) -> None:
    async with app_db.transaction(TenantContext("/32/3204/")) as s:
        codes = set((await s.scalars(text("SELECT code FROM tenants"))).all())
    assert "320400" in codes and "320411" in codes and "320000" in codes
    assert "320500" not in codes and "340000" not in codes
