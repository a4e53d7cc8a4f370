"""The bridge from a Dash callback (a WSGI thread) back to the ASGI request that carried it.

The mount (``dashboard.mount``) authenticates the request and puts the principal and the server's
event loop into its copy of the ASGI scope; a2wsgi hands that scope to Flask as
``environ["asgi.scope"]``. Callbacks read the principal from there, never from the request body,
and run the async readers on the server's loop (asyncpg connections belong to that loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import flask

from citylead.identity.principal import Principal
from tenants.errors import Unauthenticated

__all__ = ["LOOP_KEY", "PRINCIPAL_KEY", "current_principal", "run_on_server_loop"]

PRINCIPAL_KEY = "citylead.principal"
LOOP_KEY = "citylead.loop"
TIMEOUT_SECONDS = 30.0
T = TypeVar("T")


def _scope() -> dict[str, Any]:
    scope = flask.request.environ.get("asgi.scope")
    if not isinstance(scope, dict):
        raise Unauthenticated("the dashboard is served only through its authenticated mount")
    return scope


def current_principal() -> Principal:
    principal = _scope().get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise Unauthenticated("the dashboard is served only through its authenticated mount")
    return principal


def run_on_server_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the ASGI server's loop from this WSGI worker thread and wait for it."""
    loop = _scope().get(LOOP_KEY)
    if not isinstance(loop, asyncio.AbstractEventLoop):
        coro.close()
        raise Unauthenticated("the dashboard is served only through its authenticated mount")
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=TIMEOUT_SECONDS)
