"""One error hierarchy for the whole platform; the HTTP status is a class attribute.

Services raise these and never import web exceptions; ``citylead.api.problems`` maps them to
RFC 9457 problem+json once, at the edge. ``type`` is a stable identifier clients may switch on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "READ_ONLY_SQLSTATE",
    "CityleadError",
    "Conflict",
    "FieldProblem",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "TenantSuspended",
    "Unauthenticated",
    "UnsupportedMediaType",
]


@dataclass(frozen=True)
class FieldProblem:
    """One violated rule: which field (JSON pointer-ish path) and which rule, in words."""

    field: str
    rule: str
    value: Any = None
    upper: Any = None  # the value above that the rule compares with (standards policies)
    set_by: str | None = None  # who set the rule, e.g. "320400 v3"


class CityleadError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class Unauthenticated(CityleadError):
    status = 401
    type = "unauthenticated"
    title = "Authentication required"


class Forbidden(CityleadError):
    status = 403
    type = "forbidden"
    title = "Not allowed"


class NotFound(CityleadError):
    """Also what "not yours" looks like: the two are never told apart."""

    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(CityleadError):
    status = 409
    type = "conflict"
    title = "Conflict"


class TenantSuspended(Conflict):
    """The tenant (or one above it) is suspended (已停用): it can be read but not changed. The
    database says the same with SQLSTATE ``READ_ONLY_SQLSTATE`` (migration 0012), which the API
    maps to this problem type."""

    type = "tenant-suspended"
    title = "Tenant suspended"


READ_ONLY_SQLSTATE = "25006"  # read_only_sql_transaction: a write in a suspended tenant's context


class PayloadTooLarge(CityleadError):
    status = 413
    type = "too-large"
    title = "Request too large"


class UnsupportedMediaType(CityleadError):
    status = 415
    type = "unsupported-media-type"
    title = "Unsupported media type"


class InvalidInput(CityleadError):
    status = 422
    type = "invalid-input"
    title = "Invalid input"

    def __init__(self, detail: str | None = None, *, errors: list[FieldProblem] | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.errors = errors or []


class ServiceUnavailable(CityleadError):
    status = 503
    type = "unavailable"
    title = "Service unavailable"
