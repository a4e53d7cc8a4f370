"""Open311 GeoReport v2 documents (https://wiki.open311.org/GeoReport_v2), as pure functions.

Each document is built once as a plain dict (JSON key order = the spec's element order) and
rendered either as JSON or as XML through the spec's Spark convention: a list under a plural
element becomes one singular element per item (``services``/``service``,
``service_requests``/``request``, ``attributes``/``attribute``, ``values``/``value``,
``errors``/``error``). ``None`` is JSON ``null`` and an empty XML element, as in the spec's examples.
Datetimes are W3C (ISO 8601) with their UTC offset; text is UTF-8 everywhere.
"""

from __future__ import annotations

import enum
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

__all__ = [
    "JSON_TYPE",
    "XML_TYPE",
    "Document",
    "Format",
    "RequestView",
    "ServiceView",
    "error",
    "render",
    "request_created",
    "request_token",
    "service",
    "service_definition",
    "service_request",
    "w3c_datetime",
]

Format = Literal["json", "xml"]
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"


class Document(enum.Enum):
    """The root element of each response and, for lists, the element of one item."""

    SERVICES = ("services", "service")
    SERVICE_DEFINITION = ("service_definition", None)
    SERVICE_REQUESTS = ("service_requests", "request")
    ERRORS = ("errors", "error")

    @property
    def root(self) -> str:
        root: str = self.value[0]
        return root

    @property
    def item(self) -> str | None:
        item: str | None = self.value[1]
        return item


_ITEMS = {"attributes": "attribute", "values": "value"}  # nested lists inside a document


@dataclass(frozen=True)
class ServiceView:
    """One service type (服务类型) of the service list."""

    service_code: str
    service_name: str
    description: str
    keywords: str
    group: str
    metadata: bool = False
    type: Literal["realtime", "batch", "blackbox"] = "realtime"


@dataclass(frozen=True)
class RequestView:
    """One service request as GET requests shows it: exactly the spec's fields."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


def w3c_datetime(moment: datetime) -> str:
    """``2026-07-01T09:30:00+08:00``: seconds precision, offset always present (naive is a bug)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Open311 datetimes must carry a UTC offset")
    return moment.isoformat(timespec="seconds")


def service(view: ServiceView) -> dict[str, Any]:
    return {
        "service_code": view.service_code,
        "service_name": view.service_name,
        "description": view.description,
        "metadata": view.metadata,
        "type": view.type,
        "keywords": view.keywords,
        "group": view.group,
    }


def service_definition(service_code: str, attributes: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A service definition; services with ``metadata=false`` have an empty attribute list."""
    return {"service_code": service_code, "attributes": [dict(a) for a in attributes]}


def service_request(view: RequestView) -> dict[str, Any]:
    if view.status not in ("open", "closed"):
        raise ValueError(f"an Open311 status is open or closed, not {view.status!r}")
    return {
        "service_request_id": view.service_request_id,
        "status": view.status,
        "status_notes": view.status_notes,
        "service_name": view.service_name,
        "service_code": view.service_code,
        "description": view.description,
        "agency_responsible": view.agency_responsible,
        "service_notice": view.service_notice,
        "requested_datetime": w3c_datetime(view.requested_datetime),
        "updated_datetime": w3c_datetime(view.updated_datetime),
        "expected_datetime": w3c_datetime(view.expected_datetime) if view.expected_datetime else None,
        "address": view.address,
        "address_id": view.address_id,
        "zipcode": view.zipcode,
        "lat": view.lat,
        "long": view.long,
        "media_url": view.media_url,
    }


def request_created(
    token_or_id: str,
    service_notice: str | None = None,
    account_id: str | None = None,
    *,
    token: bool = False,
) -> dict[str, Any]:
    """The POST response item: ``service_request_id`` (type realtime) or, with ``token=True``, a
    ``token`` (type batch), never both; then ``service_notice`` and ``account_id``."""
    first = "token" if token else "service_request_id"
    return {first: token_or_id, "service_notice": service_notice, "account_id": account_id}


def request_token(service_request_id: str | None, token: str) -> dict[str, Any]:
    """GET tokens/{token}: the request id the token became (``None`` while still queued)."""
    return {"service_request_id": service_request_id, "token": token}


def error(code: int, description: str) -> dict[str, Any]:
    return {"code": code, "description": description}


def render(document: Document, payload: Any, fmt: Format) -> tuple[bytes, str]:
    """The response body and its content type. Lists are rendered for list documents (services,
    service_requests, errors), a dict for the service definition."""
    if fmt == "json":
        return msgspec.json.encode(payload), JSON_TYPE
    root = ET.Element(document.root)
    if document.item is None:
        _fill(root, payload)
    else:
        for item in payload:
            _fill(ET.SubElement(root, document.item), item)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8"), XML_TYPE


def _fill(element: ET.Element, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        child = ET.SubElement(element, name)
        if isinstance(value, list):
            item = _ITEMS.get(name)
            if item is None:
                raise ValueError(f"no XML item element for the list {name!r}")
            for entry in value:
                _fill(ET.SubElement(child, item), entry)
        elif value is not None:
            child.text = _text(value)


# XML 1.0 allows tab, newline, carriage return and these ranges; anything else (control
# characters pasted into a description) would make the document unreadable, so it is dropped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c_datetime(value)
    return _NOT_XML.sub("", str(value))
