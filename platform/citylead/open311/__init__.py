"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): the public intake interface.

``formats`` renders the spec's documents (JSON and XML) and ``forms`` parses POST requests, both
pure; ``services`` finds the jurisdiction (a live county) and its services; ``keys`` issues and
checks the API keys of client applications; ``errors`` maps platform errors to the spec's format.
"""

from citylead.open311.errors import open311_errors, open311_status
from citylead.open311.formats import (
    Document,
    Format,
    RequestView,
    ServiceView,
    error,
    render,
    request_created,
    request_token,
    service,
    service_definition,
    service_request,
    w3c_datetime,
)
from citylead.open311.forms import RequestForm, parse_form_body, parse_request_form, parse_service_code
from citylead.open311.keys import (
    Open311Client,
    do_create_client,
    do_revoke_client,
    list_clients,
    verify_api_key,
)
from citylead.open311.services import (
    Jurisdiction,
    find_service,
    in_jurisdiction,
    services_of,
    services_of_county,
)

__all__ = [
    "Document",
    "Format",
    "Jurisdiction",
    "Open311Client",
    "RequestForm",
    "RequestView",
    "ServiceView",
    "do_create_client",
    "do_revoke_client",
    "error",
    "find_service",
    "in_jurisdiction",
    "list_clients",
    "open311_errors",
    "open311_status",
    "parse_form_body",
    "parse_request_form",
    "parse_service_code",
    "render",
    "request_created",
    "request_token",
    "service",
    "service_definition",
    "service_request",
    "services_of",
    "services_of_county",
    "verify_api_key",
    "w3c_datetime",
]
