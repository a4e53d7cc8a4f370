"""The embedded provider on its own: uvicorn on a free loopback port, in a daemon thread.

A worker process provisions identities through python-keycloak even when no ``citylead up`` is
running: it starts one :class:`EmbeddedIdpServer` (the same router ``citylead up`` mounts, with its
own small engine as the application role) and points ``KeycloakAdmin`` at :attr:`server_url`.
:func:`ensure_provisioner_client` gives a database seeded without the demo the client it signs in
with (the provisioner, 开通账号的服务账号).
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from citylead.db import Database
from citylead.identity.idp import directory
from citylead.identity.idp.router import create_idp_router
from citylead.identity.keys import SigningKeys
from tenants.errors import ServiceUnavailable

__all__ = ["PROVISIONER_CLIENT", "EmbeddedIdpServer", "ensure_provisioner_client"]

PROVISIONER_CLIENT = "citylead-provisioner"
HOST = "127.0.0.1"
START_SECONDS = 10.0
STOP_SECONDS = 5.0


async def ensure_provisioner_client(session: AsyncSession, secret: str) -> None:
    """The confidential ``citylead-provisioner`` client with realm-management rights (idempotent;
    run it in ``db.transaction(None)``). Same settings as the demo seed gives it."""
    await directory.ensure_client(
        session,
        PROVISIONER_CLIENT,
        public=False,
        secret=secret,
        direct_access_grants=False,
        service_account_admin=True,
    )


class EmbeddedIdpServer:
    """``create_idp_router(...)`` under uvicorn at ``http://127.0.0.1:PORT/idp/``.

    ``database_url`` names the application role. The engine (``pool_size=2``) lives on the
    server thread's event loop and is disposed when the server stops.
    """

    def __init__(
        self,
        database_url: str,
        *,
        keys: SigningKeys,
        realm: str = "citylead",
        access_ttl: int = 300,
        refresh_ttl: int = 1800,
        audience: str = "citylead",
    ) -> None:
        self._database_url = database_url
        self._keys = keys
        self._realm = realm
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._audience = audience
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._base: str | None = None

    @property
    def server_url(self) -> str:
        """What python-keycloak takes as ``server_url`` (ends with ``/idp/``)."""
        if self._base is None:
            raise ServiceUnavailable("the embedded identity provider is not running")
        return f"{self._base}/idp/"

    @property
    def issuer(self) -> str:
        """The realm URL its tokens carry in ``iss``."""
        return f"{self.server_url}realms/{self._realm}"

    def start(self) -> str:
        """Serve on a free port; return :attr:`server_url` once requests are accepted."""
        if self._server is not None:
            return self.server_url
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        base = f"http://{HOST}:{sock.getsockname()[1]}"
        db = Database(self._database_url, pool_size=2)
        router = create_idp_router(
            db=db,
            keys=self._keys,
            issuer=f"{base}/idp/realms/{self._realm}",
            realm=self._realm,
            access_ttl=self._access_ttl,
            refresh_ttl=self._refresh_ttl,
            audience=self._audience,
        )
        app = Litestar(route_handlers=[router], on_shutdown=[db.dispose], openapi_config=None)
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=int(STOP_SECONDS) - 2
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="citylead-idp", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ServiceUnavailable("the embedded identity provider did not start")
            time.sleep(0.02)
        self._base = base
        return self.server_url

    def stop(self) -> None:
        """Stop serving (open connections get ``STOP_SECONDS`` to finish) and free the port."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._base = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(STOP_SECONDS)
            if thread.is_alive() and server is not None:
                server.force_exit = True
                thread.join(STOP_SECONDS)
        if sock is not None:
            sock.close()

    def __enter__(self) -> EmbeddedIdpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
