"""``/api/v1/tenants/{code}``: suspend (停用), resume (恢复) and export (导出) a tenant.

- ``POST …/suspend`` ``{"reason": "…"}`` and ``POST …/resume``: an administrator strictly above the
  tenant (its city's ``city_admin``, the ``province_admin``); 200 with the tenant. A tenant outside
  the caller's subtree is 404, the tenant's own administrators 403, a wrong state 409.
- ``GET …/export``: the archive (``application/zip``) for the tenant's administrators or those above
  it; written to a temporary file in one snapshot, audited, then streamed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Annotated
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.response import Stream

from citylead.api.schemas import TenantOut
from citylead.blobs import BlobStore
from citylead.db import Database
from citylead.identity.policy import require_admin_over
from citylead.identity.principal import Principal
from provisioning.export import begin_snapshot, export_tenant
from provisioning.lifecycle import do_resume, do_suspend, refuse_province, require_admin_above
from tenants.service import access_tenant_by_code

__all__ = ["SuspendIn", "TenantLifecycleController"]

Code = Annotated[str, PathParameter(pattern=r"^[0-9]{6}$", description="GB/T 2260 code, six digits")]
Db = NamedDependency[Database]
Caller = NamedDependency[Principal]
Blobs = NamedDependency[BlobStore]
SPOOL_BYTES = 16 * 1024 * 1024  # archives up to this size stay in memory
CHUNK = 1024 * 1024
BEIJING = ZoneInfo("Asia/Shanghai")


class SuspendIn(msgspec.Struct, kw_only=True):
    reason: str  # 停用原因, 1–500 characters


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


class TenantLifecycleController(Controller):
    path = "/tenants"
    tags = ["tenants"]  # noqa: RUF012

    @post("/{code:str}/suspend", status_code=200, summary="Suspend a live tenant: read-only (停用)")
    async def suspend(self, db: Db, principal: Caller, code: Code, data: JSONBody[SuspendIn]) -> TenantOut:
        async with db.transaction(principal.context) as s:
            row = await access_tenant_by_code(s, principal.context, code)
            refuse_province(row.tenant)
            require_admin_above(principal, row.tenant)
            await do_suspend(s, row.tenant, reason=data.reason, acting_user=principal.username)
            return TenantOut.of(row)

    @post("/{code:str}/resume", status_code=200, summary="Resume a suspended tenant (恢复)")
    async def resume(self, db: Db, principal: Caller, code: Code) -> TenantOut:
        async with db.transaction(principal.context) as s:
            row = await access_tenant_by_code(s, principal.context, code)
            require_admin_above(principal, row.tenant)
            await do_resume(s, row.tenant, acting_user=principal.username)
            return TenantOut.of(row)

    @get("/{code:str}/export", summary="Export a tenant's data as a zip archive (导出)")
    async def export(self, db: Db, principal: Caller, blobs: Blobs, code: Code) -> Stream:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by _chunks
        try:
            async with db.transaction(principal.context) as s:
                await begin_snapshot(s)
                tenant = (await access_tenant_by_code(s, principal.context, code)).tenant
                require_admin_over(principal, tenant)
                report = await export_tenant(s, tenant, spool, blobs=blobs, acting_user=principal.username)
        except BaseException:
            spool.close()
            raise
        filename = f"citylead-{code}-{report.exported_at.astimezone(BEIJING):%Y%m%d}.zip"
        headers = {
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        }
        if report.archive_sha256:
            headers["X-Archive-SHA256"] = report.archive_sha256
        if report.archive_bytes is not None:
            headers["Content-Length"] = str(report.archive_bytes)
        return Stream(_chunks(spool), media_type="application/zip", headers=headers)
