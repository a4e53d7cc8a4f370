"""Open311 GeoReport v2 documents, field by field against the spec (wiki.open311.org/GeoReport_v2):
element names and order, root elements, JSON null vs XML empty element, W3C datetimes, the
error format; the POST form's checks; the service list built from an effective catalogue.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from citylead.open311 import (
    Document,
    RequestView,
    ServiceView,
    error,
    open311_errors,
    open311_status,
    parse_form_body,
    parse_request_form,
    render,
    request_created,
    request_token,
    service,
    service_definition,
    service_request,
    services_of,
    w3c_datetime,
)
from citylead.open311.services import find_service
from tenants.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from tenants.standards.layers import Layer, Source, fold
from tenants.standards.paths import Kind

SHANGHAI = ZoneInfo("Asia/Shanghai")
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# The spec's element orders, as its tables and examples list them.
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
    "values",
]


def xml_of(document: Document, payload: Any) -> ET.Element:
    body, media_type = render(document, payload, "xml")
    assert media_type == "text/xml; charset=utf-8"
    assert body.startswith(DECLARATION)
    return ET.fromstring(body)  # noqa: S314 (our own output, not untrusted input)


def json_of(document: Document, payload: Any) -> Any:
    body, media_type = render(document, payload, "json")
    assert media_type == "application/json; charset=utf-8"
    return json.loads(body.decode("utf-8"))


WATER = ServiceView(
    service_code="component-01001",
    service_name="供水井盖",
    description="供水井盖缺失、破损、移位或高差明显",
    keywords="部件, 市政公用设施, 01001",
    group="市政公用设施",
)


def a_request(**changes: Any) -> RequestView:
    fields: dict[str, Any] = {
        "service_request_id": "320411-2026-000123",
        "status": "closed",
        "status_notes": "已处置，现场核查通过",
        "service_name": "道路不洁",
        "service_code": "matter-06012",
        "description": "路口有大量垃圾",
        "agency_responsible": "新北区三井街道",
        "service_notice": None,
        "requested_datetime": datetime(2026, 7, 1, 9, 30, 5, 123456, tzinfo=SHANGHAI),
        "updated_datetime": datetime(2026, 7, 1, 11, 0, tzinfo=SHANGHAI),
        "expected_datetime": None,
        "address": "常州市新北区太湖东路9号",
        "address_id": None,
        "zipcode": "213022",
        "lat": 31.8101,
        "long": 119.9742,
        "media_url": "https://citylead.example/photos/a.jpg",
    }
    fields.update(changes)
    return RequestView(**fields)


# --- GET Service List ----------------------------------------------------------------------------


def test_service_json_has_the_spec_fields_in_order() -> None:
    doc = json_of(Document.SERVICES, [service(WATER)])
    assert isinstance(doc, list)
    assert list(doc[0]) == SERVICE_FIELDS
    assert doc[0] == {
        "service_code": "component-01001",
        "service_name": "供水井盖",
        "description": "供水井盖缺失、破损、移位或高差明显",
        "metadata": False,
        "type": "realtime",
        "keywords": "部件, 市政公用设施, 01001",
        "group": "市政公用设施",
    }


def test_services_xml_is_services_of_service_elements() -> None:
    root = xml_of(Document.SERVICES, [service(WATER), service(WATER)])
    assert root.tag == "services"
    assert [c.tag for c in root] == ["service", "service"]
    item = root[0]
    assert [c.tag for c in item] == SERVICE_FIELDS
    assert item.findtext("service_name") == "供水井盖"
    assert item.findtext("metadata") == "false"
    assert item.findtext("type") == "realtime"


def test_xml_is_utf8_not_character_references() -> None:
    body, _ = render(Document.SERVICES, [service(WATER)], "xml")
    assert "供水井盖".encode() in body
    assert b"&#" not in body


def test_an_empty_service_list() -> None:
    assert json_of(Document.SERVICES, []) == []
    root = xml_of(Document.SERVICES, [])
    assert (root.tag, len(root)) == ("services", 0)


# --- GET Service Definition ----------------------------------------------------------------------


def test_a_definition_without_metadata_has_its_code_and_no_attributes() -> None:
    assert json_of(Document.SERVICE_DEFINITION, service_definition("matter-06012")) == {
        "service_code": "matter-06012",
        "attributes": [],
    }
    root = xml_of(Document.SERVICE_DEFINITION, service_definition("matter-06012"))
    assert root.tag == "service_definition"
    assert [c.tag for c in root] == ["service_code", "attributes"]
    assert root.findtext("service_code") == "matter-06012"
    assert len(root.find("attributes") or []) == 0


def test_a_definition_with_attributes_matches_the_spec_example() -> None:
    """The spec's DMV66 example, element for element."""
    attribute = {
        "variable": True,
        "code": "WHISHETN",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "What is the ticket/tag/DL number?",
        "values": [{"key": 123, "name": "Ford"}, {"key": 124, "name": "Chrysler"}],
    }
    doc = json_of(Document.SERVICE_DEFINITION, service_definition("DMV66", [attribute]))
    assert list(doc["attributes"][0]) == ATTRIBUTE_FIELDS
    assert doc["attributes"][0]["datatype_description"] is None
    root = xml_of(Document.SERVICE_DEFINITION, service_definition("DMV66", [attribute]))
    attr = root.find("attributes/attribute")
    assert attr is not None
    assert [c.tag for c in attr] == ATTRIBUTE_FIELDS
    assert attr.findtext("variable") == "true"
    assert attr.findtext("datatype_description") == ""
    assert attr.findtext("order") == "1"
    values = attr.findall("values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [("123", "Ford"), ("124", "Chrysler")]
    assert [c.tag for c in values[0]] == ["key", "name"]


# --- GET Service Requests ------------------------------------------------------------------------


def test_a_request_has_exactly_the_spec_fields_in_order() -> None:
    item = service_request(a_request())
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == "320411-2026-000123"
    assert item["status"] == "closed"
    assert item["status_notes"] == "已处置，现场核查通过"
    assert item["service_name"] == "道路不洁"
    assert item["service_code"] == "matter-06012"
    assert item["description"] == "路口有大量垃圾"
    assert item["agency_responsible"] == "新北区三井街道"
    assert item["service_notice"] is None
    assert item["requested_datetime"] == "2026-07-01T09:30:05+08:00"
    assert item["updated_datetime"] == "2026-07-01T11:00:00+08:00"
    assert item["expected_datetime"] is None
    assert item["address"] == "常州市新北区太湖东路9号"
    assert item["address_id"] is None
    assert item["zipcode"] == "213022"
    assert item["lat"] == 31.8101
    assert item["long"] == 119.9742
    assert item["media_url"] == "https://citylead.example/photos/a.jpg"


def test_requests_json_is_a_list_with_nulls() -> None:
    doc = json_of(Document.SERVICE_REQUESTS, [service_request(a_request())])
    assert isinstance(doc, list)
    assert list(doc[0]) == REQUEST_FIELDS
    assert doc[0]["service_notice"] is None
    assert doc[0]["expected_datetime"] is None
    assert doc[0]["lat"] == 31.8101


def test_requests_xml_is_service_requests_of_request_with_empty_elements() -> None:
    expected = datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI)
    root = xml_of(Document.SERVICE_REQUESTS, [service_request(a_request(expected_datetime=expected))])
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert [c.tag for c in request] == REQUEST_FIELDS
    assert request.findtext("status") == "closed"
    assert request.findtext("service_notice") == ""
    assert request.findtext("address_id") == ""
    assert request.findtext("expected_datetime") == "2026-07-02T09:00:00+08:00"
    assert request.findtext("lat") == "31.8101"
    assert request.findtext("long") == "119.9742"


def test_text_is_escaped_and_unreadable_characters_dropped() -> None:
    nasty = 'a <b>&"</b> \x00\x07 ]]> 正常\n第二行'
    body, _ = render(Document.SERVICE_REQUESTS, [service_request(a_request(description=nasty))], "xml")
    assert b"<b>" not in body
    assert b"&lt;b&gt;&amp;" in body
    parsed = ET.fromstring(body).findtext("request/description")  # noqa: S314
    assert parsed == 'a <b>&"</b>  ]]> 正常\n第二行'
    # JSON keeps every character (escaped by the encoder).
    assert (
        json_of(Document.SERVICE_REQUESTS, [service_request(a_request(description=nasty))])[0]["description"]
        == nasty
    )


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(1994, 11, 5, 8, 15, 30, tzinfo=timezone(timedelta(hours=-5))), "1994-11-05T08:15:30-05:00"),
        (datetime(1994, 11, 5, 13, 15, 30, tzinfo=UTC), "1994-11-05T13:15:30+00:00"),
        (datetime(2026, 7, 1, 9, 30, 0, 999999, tzinfo=SHANGHAI), "2026-07-01T09:30:00+08:00"),
    ],
)
def test_datetimes_are_w3c_with_their_offset(moment: datetime, text: str) -> None:
    assert w3c_datetime(moment) == text


def test_naive_datetimes_and_unknown_statuses_are_bugs() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        w3c_datetime(datetime(2026, 7, 1, 9, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="UTC offset"):
        service_request(a_request(requested_datetime=datetime(2026, 7, 1, 9, 0)))  # noqa: DTZ001
    with pytest.raises(ValueError, match="open or closed"):
        service_request(a_request(status="dispatched"))


# --- POST Service Request response, tokens ------------------------------------------------------


def test_request_created_with_an_id_matches_the_spec_example() -> None:
    item = request_created("293944", "将在1个工作日内处置", None)
    assert list(item) == ["service_request_id", "service_notice", "account_id"]
    assert json_of(Document.SERVICE_REQUESTS, [item]) == [
        {"service_request_id": "293944", "service_notice": "将在1个工作日内处置", "account_id": None}
    ]
    body, _ = render(Document.SERVICE_REQUESTS, [item], "xml")
    assert body == (
        DECLARATION + b"<service_requests><request><service_request_id>293944</service_request_id>"
        b"<service_notice>\xe5\xb0\x86\xe5\x9c\xa81\xe4\xb8\xaa\xe5\xb7\xa5\xe4\xbd\x9c\xe6\x97\xa5"
        b"\xe5\x86\x85\xe5\xa4\x84\xe7\xbd\xae</service_notice><account_id /></request></service_requests>"
    )


def test_request_created_with_a_token_never_carries_an_id() -> None:
    item = request_created("tok-1", None, "acct-9", token=True)
    assert item == {"token": "tok-1", "service_notice": None, "account_id": "acct-9"}
    root = xml_of(Document.SERVICE_REQUESTS, [item])
    assert [c.tag for c in root[0]] == ["token", "service_notice", "account_id"]


def test_a_token_lookup_names_the_request_and_the_token() -> None:
    assert list(request_token("638344", "12345")) == ["service_request_id", "token"]
    root = xml_of(Document.SERVICE_REQUESTS, [request_token(None, "12345")])
    assert root.findtext("request/service_request_id") == ""
    assert root.findtext("request/token") == "12345"


# --- Errors ------------------------------------------------------------------------------------------


def test_errors_match_the_spec_example() -> None:
    items = [error(403, "Invalid api_key received -- can't proceed with create_request.")]
    assert json_of(Document.ERRORS, items) == [
        {"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}
    ]
    root = xml_of(Document.ERRORS, items)
    assert root.tag == "errors"
    assert [c.tag for c in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"]
    assert root.findtext("error/code") == "403"


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (NotFound("x"), 404),
        (Forbidden("x"), 403),
        (InvalidInput("x", errors=[FieldProblem("api_key", "required")]), 403),
        (InvalidInput("x", errors=[FieldProblem("lat", "a number")]), 400),
        (InvalidInput("x"), 400),
        (Conflict("x"), 400),
        (PayloadTooLarge("x"), 413),
        (UnsupportedMediaType("x"), 415),
        (ServiceUnavailable("x"), 503),
    ],
)
def test_platform_errors_map_to_the_spec_statuses(exc: Any, status: int) -> None:
    assert open311_status(exc) == status


def test_every_field_problem_is_an_error_with_its_own_code() -> None:
    exc = InvalidInput(
        "x",
        errors=[FieldProblem("api_key", "required"), FieldProblem("lat", "a WGS84 decimal degree", "abc")],
    )
    status, items = open311_errors(exc)
    assert status == 403
    assert items == [
        {"code": 403, "description": "api_key: required"},
        {"code": 400, "description": "lat: a WGS84 decimal degree (got 'abc')"},
    ]
    assert open311_errors(NotFound("jurisdiction_id 999999 is unknown")) == (
        404,
        [{"code": 404, "description": "jurisdiction_id 999999 is unknown"}],
    )


# --- POST form ------------------------------------------------------------------------------------

BASE = {
    "api_key": "o311_abc",
    "jurisdiction_id": "320411",
    "service_code": "matter-06012",
}


def form(**fields: str) -> list[tuple[str, str]]:
    return list({**BASE, **fields}.items())


def problems(pairs: list[tuple[str, str]]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_request_form(pairs)
    return {p.field: p.rule for p in caught.value.errors}


def test_the_spec_example_body_parses() -> None:
    body = (
        b"api_key=xyz&jurisdiction_id=320411&service_code=component-01001&lat=37.76524078"
        b"&long=-122.4212043&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111"
        b"&account_id=123456&first_name=john&last_name=smith&phone=111111111"
        b"&description=A+large+sinkhole+is+destroying+the+street"
        b"&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
        b"&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
    )
    parsed = parse_form_body(body)
    assert parsed.api_key == "xyz"
    assert parsed.jurisdiction_id == "320411"
    assert (parsed.service_code, parsed.kind, parsed.code) == ("component-01001", "component", "01001")
    assert (parsed.lat, parsed.long) == (37.76524078, -122.4212043)
    assert parsed.address_string == "1234 5th street"
    assert parsed.email == "smit333@sfgov.edu"
    assert parsed.device_id == "tt222111"
    assert parsed.account_id == "123456"
    assert (parsed.first_name, parsed.last_name) == ("john", "smith")
    assert parsed.phone == "111111111"
    assert parsed.description == "A large sinkhole is destroying the street"
    assert parsed.media_url == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"
    assert dict(parsed.attributes) == {"WHISPAWN": ("123456",), "WHISDORN": ("COISL001",)}
    assert parsed.address_id is None


def test_multivalue_attributes_and_chinese_text() -> None:
    body = "&".join(
        [
            "api_key=o311_k&jurisdiction_id=320411&service_code=matter-06012-01",
            "address_string=%E5%B8%B8%E5%B7%9E%E5%B8%82%E6%96%B0%E5%8C%97%E5%8C%BA",
            "attribute[code1][]=value1&attribute[code1][]=value2&attribute[code1][]=value3",
        ]
    ).encode()
    parsed = parse_form_body(body)
    assert parsed.address_string == "常州市新北区"
    assert parsed.code == "06012-01"
    assert dict(parsed.attributes) == {"code1": ("value1", "value2", "value3")}
    assert (parsed.lat, parsed.long) == (None, None)


def test_address_id_alone_is_a_location() -> None:
    assert parse_request_form(form(address_id="A-17")).address_id == "A-17"


def test_missing_required_fields_are_all_named() -> None:
    found = problems([("lat", "31.8"), ("long", "119.9")])
    assert set(found) == {"api_key", "jurisdiction_id", "service_code"}
    assert open311_status(InvalidInput("x", errors=[FieldProblem(f, r) for f, r in found.items()])) == 403


def test_without_an_api_key_it_is_403_with_a_key_present_it_is_400() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request_form([(k, v) for k, v in form(lat="31.8", long="119.9") if k != "api_key"])
    assert open311_status(caught.value) == 403
    with pytest.raises(InvalidInput) as caught:
        parse_request_form(form(lat="91", long="119.9"))
    assert open311_status(caught.value) == 400


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({}, "location", "a location is required"),
        ({"lat": "31.8"}, "long", "lat and long are sent together"),
        ({"long": "119.9", "address_string": "x"}, "lat", "lat and long are sent together"),
        ({"lat": "91", "long": "0"}, "lat", "from -90 to 90"),
        ({"lat": "0", "long": "-180.5"}, "long", "from -180 to 180"),
        ({"lat": "nan", "long": "0"}, "lat", "WGS84"),
        ({"lat": "inf", "long": "0"}, "lat", "WGS84"),
        ({"lat": "north", "long": "0"}, "lat", "WGS84"),
        ({"service_code": "06012", "address_id": "1"}, "service_code", "{component|matter}-{class code}"),
        ({"service_code": "event-0101", "address_id": "1"}, "service_code", "{component|matter}"),
        ({"email": "not-an-email", "address_id": "1"}, "email", "an email address"),
        ({"phone": "call me", "address_id": "1"}, "phone", "digits"),
        ({"media_url": "javascript:alert(1)", "address_id": "1"}, "media_url", "an http(s) URL"),
        ({"description": "x" * 4001, "address_id": "1"}, "description", "at most 4,000 characters"),
        ({"first_name": "x" * 65, "address_id": "1"}, "first_name", "at most 64"),
        ({"description": "bad\x00byte", "address_id": "1"}, "description", "no control characters"),
    ],
)
def test_bad_fields_are_named_with_their_rule(fields: dict[str, str], field: str, rule: str) -> None:
    found = problems(form(**fields))
    assert field in found, found
    assert rule in found[field]


def test_empty_optional_fields_count_as_absent() -> None:
    parsed = parse_request_form(form(address_string="路口", email="", phone="", lat="", long=""))
    assert (parsed.email, parsed.phone, parsed.lat, parsed.long) == (None, None, None, None)


def test_a_field_given_twice_is_refused() -> None:
    found = problems([*form(address_id="1"), ("service_code", "matter-06001")])
    assert found == {"service_code": "given once"}


def test_description_keeps_its_line_breaks() -> None:
    assert parse_request_form(form(address_id="1", description="一\r\n二\n三")).description == "一\r\n二\n三"


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"api_key=\xff\xfe", "UTF-8"),
        ("&".join(f"f{i}=x" for i in range(101)).encode(), "at most 100 fields"),
        (b"description=" + b"x" * (64 * 1024), "bytes"),
    ],
    ids=["not-utf8", "too-many-fields", "too-large"],
)
def test_bodies_that_are_not_a_sane_form(body: bytes, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_form_body(body)
    assert caught.value.errors[0].field == "body"
    assert rule in caught.value.errors[0].rule


# --- the service list from an effective catalogue ----------------------------------------------


def effective(kind: Kind, *layers: dict[str, Any]) -> Any:
    return fold(
        kind,
        [
            Layer.of(Source(code, 1), {"values": v})
            for code, v in zip(("320000", "320400"), layers, strict=False)
        ],
    )


CATALOG = {
    "catalog/edition": "gbt47678_5",
    "catalog/component/01/name": "市政公用设施",
    "catalog/component/01001/name": "供水井盖",
    "catalog/matter/01/name": "市政公用设施类",
    "catalog/matter/01001/name": "供水井盖异常",
    "catalog/matter/06/name": "市容环境类",
    "catalog/matter/06012/name": "道路不洁",
    "catalog/component/0101/name": "上水井盖",
    "catalog/component/0101/maps_to": "01001",
}
MANUAL = {
    "manual/default/filing": "默认立案条件",
    "manual/component/01001/filing": "供水井盖缺失或破损",
    "manual/matter/06012/filing": "道路有明显垃圾",
}


def test_services_are_the_minor_classes_of_the_edition_in_use() -> None:
    city = {"catalog/matter/06012-01/name": "主干道路面不洁"}
    views = services_of(effective(Kind.CATALOG, CATALOG, city), effective(Kind.MANUAL, MANUAL))
    assert [v.service_code for v in views] == [
        "component-01001",
        "matter-01001",
        "matter-06012",
        "matter-06012-01",
    ]
    by_code = {v.service_code: v for v in views}
    assert by_code["component-01001"] == ServiceView(
        service_code="component-01001",
        service_name="供水井盖",
        description="供水井盖缺失或破损",
        keywords="部件, 市政公用设施, 01001",
        group="市政公用设施",
    )
    assert by_code["matter-01001"].description == "默认立案条件"  # no row of its own: the default
    assert by_code["matter-06012-01"].description == "道路有明显垃圾"  # a sub-item: its class's row
    assert by_code["matter-06012-01"].group == "市容环境类"
    assert by_code["matter-06012-01"].keywords == "事件, 市容环境类, 06012-01"


def test_the_legacy_edition_offers_legacy_codes_described_through_the_crosswalk() -> None:
    county = {"catalog/edition": "gbt30428"}
    views = services_of(effective(Kind.CATALOG, CATALOG, county), effective(Kind.MANUAL, MANUAL))
    assert [v.service_code for v in views] == ["component-0101"]
    assert views[0].description == "供水井盖缺失或破损"  # 0101 maps_to 01001


def test_a_removed_class_is_no_longer_a_service_and_lookups_are_exact() -> None:
    doc = fold(
        Kind.CATALOG,
        [
            Layer.of(Source("320000", 1), {"values": CATALOG}),
            Layer.of(Source("320400", 1), {"values": {}, "removed": ["catalog/matter/06012/name"]}),
        ],
    )
    views = services_of(doc)
    assert "matter-06012" not in [v.service_code for v in views]
    assert find_service(views, "component-01001").service_name == "供水井盖"
    for missing in ("matter-06012", "01001", "component-01001.json", ""):
        with pytest.raises(NotFound):
            find_service(views, missing)
    assert all(v.description == "" for v in views)  # no manual: no description
