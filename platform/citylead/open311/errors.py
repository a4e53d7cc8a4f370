"""Platform errors in the Open311 error format: ``[{"code": 404, "description": "..."}]``.

The spec: 404 for what does not exist, 403 for a missing or wrong ``api_key``, 400 for anything
else the request got wrong. Too large (413), unsupported media (415) and server-side failures
(5xx) keep their own status. Several problems are several errors, each with its own code.
"""

from __future__ import annotations

from typing import Any

from citylead.open311.formats import error
from tenants.errors import (
    CityleadError,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
)

__all__ = ["open311_errors", "open311_status"]

_KEY_FIELDS = {"api_key"}


def open311_status(exc: CityleadError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden | Unauthenticated):
        return 403
    if isinstance(exc, InvalidInput) and any(p.field in _KEY_FIELDS for p in exc.errors):
        return 403
    if isinstance(exc, PayloadTooLarge | UnsupportedMediaType) or exc.status >= 500:
        return exc.status
    return 400


def open311_errors(exc: CityleadError) -> tuple[int, list[dict[str, Any]]]:
    """The HTTP status and the error list for ``exc``."""
    status = open311_status(exc)
    if isinstance(exc, InvalidInput) and exc.errors:
        return status, [error(_code(p), _describe(p)) for p in exc.errors]
    return status, [error(status, exc.detail)]


def _code(problem: FieldProblem) -> int:
    return 403 if problem.field in _KEY_FIELDS else 400


def _describe(problem: FieldProblem) -> str:
    shown = f" (got {problem.value!r})" if problem.value not in (None, "") else ""
    return f"{problem.field}: {problem.rule}{shown}"
