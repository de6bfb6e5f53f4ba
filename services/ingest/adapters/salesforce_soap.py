"""Salesforce Outbound Messages on the wire: the SOAP request read, the answers written.

The request is a SOAP 1.1 envelope whose body holds one `notifications` element
(namespace http://soap.sforce.com/2005/09/outbound): OrganizationId, ActionId, SessionId,
EnterpriseUrl, PartnerUrl and 1–100 `Notification`s, each an `Id` (04l…) and an `sObject`
whose `xsi:type` names the object and whose children are its selected fields (null fields
are left out or `xsi:nil`). It is parsed with defusedxml: no DTDs, no entities.

Each notification becomes one item::

    {"organization_id": "00D…", "action_id": "04k…", "notification_id": "04l…",
     "sobject": "Opportunity", "record": {"Id": "006…", "StageName": "…", …}}

Element order does not matter, namespaces prefixes are whatever the sender chose. The
answer is the `notificationsResponse` Ack (HTTP 200, text/xml), and a refusal a SOAP 1.1
Fault whose faultstring names the reason, so it shows in Salesforce's outbound queue.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from fastapi import Response

from services.ingest.adapters.base import Item, refuse
from services.ingest.intake import Refused
from services.ingest.models import InvalidEvents, Outcome, Problem

SOAPENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MEDIA_TYPE = "text/xml; charset=utf-8"
ACCEPTED_MEDIA_TYPES = ("text/xml", "application/xml", "application/soap+xml")

_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<soapenv:Envelope xmlns:soapenv="{SOAPENV_NS}" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    f'xmlns:xsi="{XSI_NS}">\n'
    " <soapenv:Body>\n"
)
_ENVELOPE_CLOSE = " </soapenv:Body>\n</soapenv:Envelope>\n"
ACK_BODY = (
    _ENVELOPE_OPEN
    + f'  <notificationsResponse xmlns="{OUTBOUND_NS}">\n'
    + "   <Ack>true</Ack>\n"
    + "  </notificationsResponse>\n"
    + _ENVELOPE_CLOSE
).encode()


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def _missing(path: str) -> Refused:
    return refuse(422, Outcome.INVALID, f"{path} is missing")


def _is_nil(element: Element) -> bool:
    return element.get(_tag(XSI_NS, "nil"), "").strip().lower() in ("true", "1")


def _text(element: Element | None) -> str | None:
    if element is None or _is_nil(element):
        return None
    value = (element.text or "").strip()
    return value or None


def read_envelope(body: bytes) -> Element:
    """The `notifications` element of a SOAP request; refuses 400/422 otherwise."""
    try:
        root = fromstring(body, forbid_dtd=True)
    # LookupError: an XML declaration naming an encoding Python lacks (or rot13, base64).
    except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise refuse(400, Outcome.INVALID, f"body is not well-formed XML: {exc}") from exc
    if root.tag != _tag(SOAPENV_NS, "Envelope"):
        raise refuse(422, Outcome.INVALID, "soapenv:Envelope (SOAP 1.1) is missing")
    soap_body = root.find(_tag(SOAPENV_NS, "Body"))
    if soap_body is None:
        raise _missing("soapenv:Envelope/soapenv:Body")
    notifications = soap_body.find(_tag(OUTBOUND_NS, "notifications"))
    if notifications is None:
        raise _missing("soapenv:Body/notifications")
    return notifications


def organization_of(notifications: Element) -> str:
    """The OrganizationId of a message; refuses 422 when it is missing."""
    organization_id = _text(notifications.find(_tag(OUTBOUND_NS, "OrganizationId")))
    if organization_id is None:
        raise _missing("notifications/OrganizationId")
    return organization_id


def parse_notifications(body: bytes) -> list[Item]:
    """One item per Notification of an Outbound Message (see the module docstring)."""
    notifications = read_envelope(body)
    organization_id = organization_of(notifications)
    action_id = _text(notifications.find(_tag(OUTBOUND_NS, "ActionId")))
    elements = notifications.findall(_tag(OUTBOUND_NS, "Notification"))
    if not elements:
        raise _missing("notifications/Notification")
    items: list[Item] = []
    for index, element in enumerate(elements):
        path = f"notifications/Notification[{index + 1}]"
        notification_id = _text(element.find(_tag(OUTBOUND_NS, "Id")))
        if notification_id is None:
            raise _missing(f"{path}/Id")
        sobject = element.find(_tag(OUTBOUND_NS, "sObject"))
        if sobject is None:
            raise _missing(f"{path}/sObject")
        type_name = sobject.get(_tag(XSI_NS, "type"), "").rpartition(":")[2].strip()
        if not type_name:
            raise _missing(f"{path}/sObject/@xsi:type")
        record = _record(sobject)
        if not record.get("Id"):
            raise _missing(f"{path}/sObject/Id")
        items.append(
            {
                "organization_id": organization_id,
                "action_id": action_id,
                "notification_id": notification_id,
                "sobject": type_name,
                "record": record,
            }
        )
    return items


def _record(sobject: Element) -> dict[str, Any]:
    """The sObject's fields: leaf elements only (text, or None for xsi:nil)."""
    record: dict[str, Any] = {}
    for child in sobject:
        if len(child):
            continue  # a nested element is no field of this record
        if _is_nil(child):
            record[_local(child)] = None
        else:
            text = child.text or ""
            record[_local(child)] = text.strip() if _local(child) == "Id" else text
    return record


def ack() -> Response:
    """The answer that dequeues the message in Salesforce."""
    return Response(ACK_BODY, 200, media_type=MEDIA_TYPE)


def fault(refused: Refused) -> Response:
    """A refusal as a SOAP 1.1 Fault, with the refusal's status code and headers."""
    code = "soapenv:Server" if refused.status >= 500 else "soapenv:Client"
    reason = f"{refused.outcome.value}: {_detail(refused.body)}"
    body = (
        _ENVELOPE_OPEN
        + "  <soapenv:Fault>\n"
        + f"   <faultcode>{code}</faultcode>\n"
        + f"   <faultstring>{_escape(reason)}</faultstring>\n"
        + "  </soapenv:Fault>\n"
        + _ENVELOPE_CLOSE
    )
    return Response(
        body.encode(errors="replace"), refused.status, refused.headers, media_type=MEDIA_TYPE
    )


def _detail(body: Problem | InvalidEvents) -> str:
    if isinstance(body, Problem):
        return body.detail
    return "; ".join(
        f"{'.'.join(str(part) for part in issue.loc)}: {issue.msg}" for issue in body.detail
    )


def _escape(text: str) -> str:
    # XML 1.0 cannot carry most control characters at all: drop them, escape the rest.
    kept = "".join(ch for ch in text if ch >= " " or ch in "\t\n\r")
    return kept.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
