"""RFC 9457 problem+json for every error; no stack trace ever reaches a client."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DBAPIError

from tenants.errors import READ_ONLY_SQLSTATE, CityleadError, InvalidInput, Unauthenticated

__all__ = ["exception_handlers", "problem"]

log = logging.getLogger("citylead.api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:citylead:problem:"

_HTTP_TYPES = {
    400: ("invalid-request", "Invalid request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    429: ("too-many-requests", "Too many requests"),
    503: ("unavailable", "Service unavailable"),
}


def problem(
    request: Request[Any, Any, Any],
    status: int,
    type_: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _bearer_challenge(detail: str) -> dict[str, str]:
    safe = detail.replace('"', "'")
    return {"WWW-Authenticate": f'Bearer realm="citylead", error="invalid_token", error_description="{safe}"'}


def _citylead_error(request: Request[Any, Any, Any], exc: CityleadError) -> Response[dict[str, Any]]:
    extra = dict(exc.extra)
    if isinstance(exc, InvalidInput) and exc.errors:
        extra["errors"] = [
            {"field": e.field, "rule": e.rule}
            | {
                k: v
                for k, v in (("value", e.value), ("upper", e.upper), ("set_by", e.set_by))
                if v is not None
            }
            for e in exc.errors
        ]
    headers = _bearer_challenge(exc.detail) if isinstance(exc, Unauthenticated) else None
    if exc.status >= 500:
        log.error("service error on %s %s: %s", request.method, request.url.path, exc.detail)
    return problem(request, exc.status, exc.type, exc.title, exc.detail, headers=headers, **extra)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key") or item.get("source") or "body",
                    "rule": item.get("message", ""),
                    "in": item.get("source"),
                }
            )
    detail = "; ".join(f"{e['field']}: {e['rule']}" for e in errors) or str(exc.detail)
    return problem(request, 400, "invalid-request", "Invalid request", detail, errors=errors or None)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    type_, title = _HTTP_TYPES.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if exc.detail and exc.detail != title else title
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.update(_bearer_challenge(detail))
    if exc.status_code >= 500:
        log.error("server error on %s %s: %s", request.method, request.url.path, exc.detail, exc_info=exc)
        type_, title, detail = "internal-error", "Internal error", "an internal error occurred"
    return problem(request, exc.status_code, type_, title, detail, headers=headers or None)


_SUSPENDED = re.compile(r"tenant (\d{6} [^,\s:]+(?:, \d{6} [^,\s:]+)*) is suspended")


def _database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    """A write in a suspended tenant (已停用) is a 409 naming the tenant; anything else is internal."""
    if getattr(exc.orig, "sqlstate", None) != READ_ONLY_SQLSTATE:
        return _unexpected(request, exc)
    named = _SUSPENDED.search(str(exc.orig))  # the trigger on cases names the tenant
    code = request.path_params.get("code")
    if named:
        who, tenant = f"tenant {named.group(1)}", named.group(1).split(" ", 1)[0]
    elif isinstance(code, str):  # an administrator acting in a tenant's context names it in the path
        who, tenant = f"tenant {code} or a tenant above it", code
    else:  # the caller's own tenant, or one above it
        user = request.scope.get("user")
        tenant = getattr(user, "tenant_code", None)
        who = f"your tenant {tenant} or a tenant above it" if tenant else "this tenant"
    return problem(
        request,
        409,
        "tenant-suspended",
        "Tenant suspended",
        f"{who} is suspended (已停用): its data can be read but not changed until an administrator "
        "above it resumes it",
        tenant=tenant,
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "internal-error", "Internal error", "an internal error occurred")


exception_handlers: dict[type[Exception] | int, Any] = {
    CityleadError: _citylead_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    DBAPIError: _database_error,
    Exception: _unexpected,
}
