"""The POST Service Request form (``application/x-www-form-urlencoded``), parsed and checked.

Every problem is collected before anything is raised, so one reply names every bad field. Which
HTTP status a problem means follows the spec: a missing or malformed ``api_key`` is 403, anything
else 400 (see :func:`citylead.open311.errors.open311_status`); whether the jurisdiction and the
service exist is for the endpoint to decide (404).

Service codes are ``{kind}-{code}`` (``component-01001``, ``matter-06012-01``): the same five-digit
class code exists among components (部件) and matters (事件), so the kind is part of the code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl

from tenants.errors import FieldProblem, InvalidInput

__all__ = ["MAX_FIELDS", "RequestForm", "parse_form_body", "parse_request_form", "parse_service_code"]

MAX_FIELDS = 100
MAX_BODY = 64 * 1024
_SERVICE_CODE = re.compile(r"^(component|matter)-(\d{4,5}(?:-\d{2})?)$")
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.:-]{1,64})\](\[\])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# field → (max length, pattern or None, rule text)
_TEXT: dict[str, tuple[int, re.Pattern[str] | None, str]] = {
    "address_string": (500, None, "at most 500 characters"),
    "address_id": (128, None, "at most 128 characters"),
    "email": (255, _EMAIL, "an email address, at most 255 characters"),
    "device_id": (128, None, "at most 128 characters"),
    "account_id": (128, None, "at most 128 characters"),
    "first_name": (64, None, "at most 64 characters"),
    "last_name": (64, None, "at most 64 characters"),
    "phone": (32, _PHONE, "digits, spaces, '-', optional leading '+'"),
    "description": (4000, None, "at most 4,000 characters"),
    "media_url": (2048, _URL, "an http(s) URL, at most 2,048 characters"),
}
_KNOWN = {"api_key", "jurisdiction_id", "service_code", "lat", "long", *_TEXT}


@dataclass(frozen=True)
class RequestForm:
    """A POST Service Request, checked. ``kind``/``code`` are the parts of ``service_code``."""

    jurisdiction_id: str
    api_key: str
    service_code: str
    kind: str
    code: str
    lat: float | None = None
    long: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None
    attributes: MappingProxyType[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


def parse_service_code(service_code: str) -> tuple[str, str] | None:
    """``matter-06012-01`` → ``("matter", "06012-01")``; None if it is not a service code."""
    found = _SERVICE_CODE.match(service_code)
    return (found.group(1), found.group(2)) if found else None


def parse_form_body(body: bytes) -> RequestForm:
    """Parse a raw urlencoded body (UTF-8, as the spec requires) and check it."""
    if len(body) > MAX_BODY:
        raise InvalidInput(
            f"the form is {len(body)} bytes; at most {MAX_BODY} are accepted",
            errors=[FieldProblem("body", f"at most {MAX_BODY} bytes")],
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            "the form is not UTF-8", errors=[FieldProblem("body", "urlencoded UTF-8 text")]
        ) from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except ValueError:
        raise InvalidInput(
            f"the form has more than {MAX_FIELDS} fields or is not urlencoded UTF-8",
            errors=[FieldProblem("body", f"urlencoded, at most {MAX_FIELDS} fields")],
        ) from None
    return parse_request_form(pairs)


def parse_request_form(pairs: Iterable[tuple[str, str]]) -> RequestForm:
    """Check the form's fields; InvalidInput naming every problem. Empty values count as absent
    (the spec: an empty optional argument is the same as none); unknown fields are ignored."""
    scalars: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    problems: list[FieldProblem] = []
    for name, raw in pairs:
        value = raw.strip()
        if (found := _ATTRIBUTE.match(name)) is not None:
            if value:
                attributes.setdefault(found.group(1), []).append(value)
        elif name.startswith("attribute"):
            problems.append(FieldProblem(name, "attribute[code]=value or attribute[code][]=value"))
        elif name in _KNOWN and value:
            if name in scalars:
                problems.append(FieldProblem(name, "given once"))
            scalars[name] = value

    for name, value in scalars.items():
        if _CONTROL.search(value):
            problems.append(FieldProblem(name, "no control characters", value[:80]))
    if not scalars.get("api_key"):
        problems.append(FieldProblem("api_key", "required: the API key issued to your application"))
    if not scalars.get("jurisdiction_id"):
        problems.append(FieldProblem("jurisdiction_id", "required: the county code (GB/T 2260, six digits)"))
    kind_code = None
    if not (service_code := scalars.get("service_code")):
        problems.append(FieldProblem("service_code", "required: a service_code from GET services"))
    elif (kind_code := parse_service_code(service_code)) is None:
        problems.append(
            FieldProblem("service_code", "{component|matter}-{class code}, e.g. matter-06012", service_code)
        )
    lat = _coordinate(scalars, "lat", 90, problems)
    long = _coordinate(scalars, "long", 180, problems)
    if ("lat" in scalars) != ("long" in scalars):
        missing = "long" if "lat" in scalars else "lat"
        problems.append(FieldProblem(missing, "lat and long are sent together"))
    if not (
        ("lat" in scalars and "long" in scalars) or "address_string" in scalars or "address_id" in scalars
    ):
        problems.append(
            FieldProblem("location", "a location is required: lat and long, address_string or address_id")
        )
    for name, (limit, pattern, rule) in _TEXT.items():
        given = scalars.get(name)
        if given is not None and (len(given) > limit or (pattern is not None and not pattern.match(given))):
            problems.append(FieldProblem(name, rule, given[:80]))
    for code, values in attributes.items():
        if any(len(v) > 1000 or _CONTROL.search(v) for v in values):
            problems.append(
                FieldProblem(f"attribute[{code}]", "at most 1,000 characters, no control characters")
            )

    if problems:
        raise InvalidInput("; ".join(f"{p.field}: {p.rule}" for p in problems), errors=problems)
    assert service_code is not None
    assert kind_code is not None
    text: dict[str, Any] = {name: scalars.get(name) for name in _TEXT}
    return RequestForm(
        jurisdiction_id=scalars["jurisdiction_id"],
        api_key=scalars["api_key"],
        service_code=service_code,
        kind=kind_code[0],
        code=kind_code[1],
        lat=lat,
        long=long,
        attributes=MappingProxyType({c: tuple(v) for c, v in attributes.items()}),
        **text,
    )


def _coordinate(
    scalars: dict[str, str], name: str, bound: float, problems: list[FieldProblem]
) -> float | None:
    raw = scalars.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        problems.append(FieldProblem(name, f"a WGS84 decimal degree from -{bound} to {bound}", raw[:40]))
        return None
    return value
