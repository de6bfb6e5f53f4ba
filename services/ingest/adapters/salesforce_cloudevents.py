"""Salesforce Change Data Capture events as a relay posts them: CloudEvents 1.0 over HTTP.

Content modes:

- structured, `application/cloudevents+json`: one envelope
  `{specversion: "1.0", id, source, type, time?, subject?, datacontenttype?, data}`;
- batched, `application/cloudevents-batch+json`: a JSON array of envelopes;
- `application/json`: an envelope or an array of them; or, when the request has a
  `ce-specversion` header, binary mode: the attributes in `ce-*` headers and `data` the body.

`data` is the CometD change event `{schema, payload: {ChangeEventHeader, …fields}, event:
{replayId}}`. The organisation is named by `source`, `urn:salesforce:<org id>/data/<channel>`
(the form the relay and the simulator use); a source that names none is refused (422).

Each record id of `ChangeEventHeader.recordIds` becomes one item (one change applied to
several records in one transaction is one change per record)::

    {"organization_id": "00D…", "record_id": "006…" | None, "cloudevent": {…envelope…}}

A missing envelope attribute, `data.payload.ChangeEventHeader` or its entityName, changeType
or recordIds is refused with 422 naming the path; what a single change lacks beyond that
(transactionKey, commitTimestamp…) parks that change instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from services.ingest.adapters.base import Item, WebhookRequest, refuse, require_media_type
from services.ingest.intake import Refused
from services.ingest.models import Outcome

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON = "application/json"
_SOURCE = re.compile(r"^urn:salesforce:(00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?)(?:/|$)")
_REQUIRED = ("specversion", "id", "source", "type")


def _invalid(path: str, problem: str = "is missing") -> Refused:
    return refuse(422, Outcome.INVALID, f"{path} {problem}")


def envelopes(request: WebhookRequest) -> list[tuple[str, dict[str, Any]]]:
    """(JSON path, envelope) for every CloudEvent of the request; refuses 400/415/422."""
    require_media_type(request.content_type, (STRUCTURED, BATCH, JSON))
    media_type = request.content_type.partition(";")[0].strip().lower()
    try:
        document = orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise refuse(400, Outcome.INVALID, f"body is not valid JSON: {exc}") from exc
    if media_type == JSON and "ce-specversion" in request.headers:
        return [("body", _binary(request.headers, document))]
    if isinstance(document, list) and media_type in (BATCH, JSON):
        if not document:
            raise _invalid("body", "holds no CloudEvent")
        return [(f"body[{index}]", envelope) for index, envelope in enumerate(document)]
    if isinstance(document, dict) and media_type in (STRUCTURED, JSON):
        return [("body", document)]
    expected = "an array of CloudEvents" if media_type == BATCH else "a CloudEvent object"
    raise _invalid("body", f"is not {expected}")


def _binary(headers: Mapping[str, str], data: Any) -> dict[str, Any]:
    """A binary-mode CloudEvent: attributes from the ce-* headers, the body as data."""
    envelope: dict[str, Any] = {
        name.removeprefix("ce-"): value for name, value in headers.items() if name.startswith("ce-")
    }
    envelope["data"] = data
    return envelope


def organization_of(path: str, envelope: Any) -> str:
    """The organisation id a CloudEvent's source names; refuses 422 otherwise."""
    if not isinstance(envelope, dict):
        raise _invalid(path, "is not a CloudEvent object")
    source = envelope.get("source")
    if not isinstance(source, str) or not source:
        raise _invalid(f"{path}.source")
    match = _SOURCE.match(source)
    if match is None:
        raise _invalid(f"{path}.source", "names no organization (urn:salesforce:<org id>/…)")
    return match.group(1)


def organizations(request: WebhookRequest) -> list[str]:
    """The organisations of every CloudEvent of the request (for the allow-list)."""
    return [organization_of(path, envelope) for path, envelope in envelopes(request)]


def parse_changes(request: WebhookRequest) -> list[Item]:
    """One item per (CloudEvent, record id) (see the module docstring)."""
    items: list[Item] = []
    for path, envelope in envelopes(request):
        organization_id = organization_of(path, envelope)
        for name in _REQUIRED:
            value = envelope.get(name)
            if not isinstance(value, str) or not value:
                raise _invalid(f"{path}.{name}")
        if envelope["specversion"] != "1.0":
            raise _invalid(f"{path}.specversion", "must be 1.0")
        record_ids: list[str | None] = [*_record_ids(path, envelope)]
        for record_id in record_ids or [None]:
            items.append(
                {"organization_id": organization_id, "record_id": record_id, "cloudevent": envelope}
            )
    return items


def _record_ids(path: str, envelope: dict[str, Any]) -> list[str]:
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise _invalid(f"{path}.data", "is missing (or not a JSON object)")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise _invalid(f"{path}.data.payload")
    header = payload.get("ChangeEventHeader")
    where = f"{path}.data.payload.ChangeEventHeader"
    if not isinstance(header, dict):
        raise _invalid(where)
    for name in ("entityName", "changeType"):
        if not isinstance(header.get(name), str) or not header[name]:
            raise _invalid(f"{where}.{name}")
    record_ids = header.get("recordIds")
    if not isinstance(record_ids, list) or not all(
        isinstance(record_id, str) and record_id for record_id in record_ids
    ):
        raise _invalid(f"{where}.recordIds", "is missing (or not a list of ids)")
    return list(dict.fromkeys(record_ids))
