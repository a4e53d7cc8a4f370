"""Error bodies as Keycloak writes them, and the exception handlers that produce them.

- OAuth endpoints answer RFC 6749 §5.2 JSON: ``{"error": ..., "error_description": ...}``.
- The admin REST API answers ``{"errorMessage": ...}`` for 400/409, ``{"error": ...}`` for 404,
  ``{"error": "HTTP 401 Unauthorized"}`` and ``{"error": "unknown_error"}`` (403).

Store functions raise the platform errors of :mod:`tenants.errors`; the router maps them here, so
the rest of citylead (problem+json) is not affected.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from tenants.errors import CityleadError, Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated

__all__ = ["IdpError", "exception_handlers", "oauth_error"]


class IdpError(Exception):
    """An error response with an exact Keycloak body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def oauth_error(status: int, error: str, description: str | None = None) -> IdpError:
    """RFC 6749 error: ``invalid_grant``, ``invalid_client``, ``invalid_request``..."""
    body = {"error": error}
    if description is not None:
        body["error_description"] = description
    headers = {"WWW-Authenticate": 'Basic realm="citylead"'} if error == "invalid_client" else None
    return IdpError(status, body, headers)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


def _idp_error(_: Request[Any, Any, Any], exc: IdpError) -> Response[Any]:
    return _json(exc.status, exc.body, exc.headers)


def _platform_error(_: Request[Any, Any, Any], exc: CityleadError) -> Response[Any]:
    if isinstance(exc, NotFound):
        return _json(404, {"error": exc.detail})
    if isinstance(exc, Conflict):
        return _json(409, {"errorMessage": exc.detail})
    if isinstance(exc, InvalidInput):
        return _json(400, {"errorMessage": exc.detail})
    if isinstance(exc, Unauthenticated):
        return _json(401, {"error": "HTTP 401 Unauthorized"}, {"WWW-Authenticate": "Bearer"})
    if isinstance(exc, Forbidden):
        return _json(403, {"error": "unknown_error"})
    return _json(500, {"error": "unknown_error"})


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return _json(400, {"errorMessage": exc.detail})


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _json(exc.status_code, {"error": exc.detail})


exception_handlers: ExceptionHandlersMap = {
    IdpError: _idp_error,
    CityleadError: _platform_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
}
