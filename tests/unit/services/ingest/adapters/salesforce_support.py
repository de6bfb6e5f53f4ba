"""Salesforce test support: the org, its users, Outbound Message and CDC bodies, the app."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import SecretStr

from services.ingest.adapters.base import Adapter
from services.ingest.app import create_app
from services.ingest.mapping import MappingConfig
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.clock import FixedClock
from tests.unit.services.ingest.support import NOW, SECRET, serve

ORG = "00D5e000000SiMuEAK"
OTHER_ORG = "00D5e000000OthErAA"
USER_1, USER_2, STRANGER = "0058W00000User1AAA", "0058W00000User2AAA", "0058W00000NobodAAA"
USERS = {USER_1: "rep-1", USER_2: "rep-2"}
OPP, TASK, MEETING = "0068W00000Opp01AAA", "00T8W00000Task1AAA", "00U8W00000Meet1AAA"
ACCOUNT, CONTACT = "0018W00000Acct1AAA", "0038W00000Cont1AAA"
AT = NOW - timedelta(hours=2)
OUTBOUND_URL, CDC_URL = "/v1/webhooks/salesforce", "/v1/webhooks/salesforce-cdc"
XML = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
CLOUDEVENT = {"Content-Type": "application/cloudevents+json"}
SAMPLES = Path(__file__).parents[4] / "fixtures" / "crm_samples"


def sf_time(moment: datetime) -> str:
    """A datetime as Salesforce writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def mapping_document(**salesforce: Any) -> dict[str, Any]:
    """A mapping file knowing USERS and the standard stages, with `salesforce` overrides."""
    return {"salesforce": {"users": dict(USERS), **salesforce}}


def mapping(**salesforce: Any) -> MappingConfig:
    return MappingConfig.model_validate(mapping_document(**salesforce))


def opportunity(
    at: datetime = AT,
    *,
    stage: str = "Prospecting",
    amount: str | None = "45000.0",
    owner: str = USER_1,
    record_id: str = OPP,
    **fields: Any,
) -> dict[str, Any]:
    """Opportunity fields as an Outbound Message carries them (text)."""
    record = {
        "Id": record_id,
        "AccountId": ACCOUNT,
        "Amount": amount,
        "CloseDate": "2026-12-31",
        "CreatedDate": sf_time(AT - timedelta(days=1)),
        "IsClosed": "false",
        "LastModifiedById": owner,
        "LastModifiedDate": sf_time(at),
        "Name": "Initech renewal",
        "OwnerId": owner,
        "StageName": stage,
        "SystemModstamp": sf_time(at),
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def task(
    subtype: str = "Email", *, record_id: str = TASK, at: datetime = AT, **fields: Any
) -> dict[str, Any]:
    """A completed Task: an outbound email unless `fields` say otherwise."""
    record = {
        "Id": record_id,
        "AccountId": ACCOUNT,
        "CompletedDateTime": sf_time(at),
        "CreatedDate": sf_time(at),
        "Direction__c": "Outbound",
        "IsClosed": "true",
        "LastModifiedDate": sf_time(at),
        "OwnerId": USER_1,
        "Status": "Completed",
        "Subject": "Email: Pricing",
        "TaskSubtype": subtype,
        "WhatId": OPP,
        "WhoId": CONTACT,
    }
    if subtype == "Call":
        record.pop("Direction__c")
        record.update(
            CallDisposition="Connected", CallDurationInSeconds="300", Subject="Call", Type="Call"
        )
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def meeting(
    status: str = "Scheduled", *, kind: str = "Initial", at: datetime = AT, **fields: Any
) -> dict[str, Any]:
    """An Event (meeting) record."""
    start = NOW + timedelta(days=2)
    record = {
        "Id": MEETING,
        "AccountId": ACCOUNT,
        "DurationInMinutes": "45",
        "EventSubtype": "Event",
        "LastModifiedDate": sf_time(at),
        "Meeting_Kind__c": kind,
        "Meeting_Status__c": status,
        "OwnerId": USER_2,
        "StartDateTime": sf_time(start),
        "Subject": "Intro meeting: Initech",
        "WhatId": OPP,
        "WhoId": CONTACT,
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def outbound(
    notifications: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    org: str = ORG,
    ids: Sequence[str] | None = None,
) -> bytes:
    """An Outbound Message holding one Notification per (sObject, fields)."""
    ids = ids or [f"04l8W0000Note{i:02d}AAA" for i in range(len(notifications))]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<soapenv:Body>\n'
        '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">\n'
        f"<OrganizationId>{org}</OrganizationId>\n<ActionId>04k8W000000Act1AAA</ActionId>\n"
        '<SessionId xsi:nil="true"/>\n'
        "<EnterpriseUrl>https://sim.my.salesforce.com/services/Soap/c/62.0</EnterpriseUrl>\n"
        "<PartnerUrl>https://sim.my.salesforce.com/services/Soap/u/62.0</PartnerUrl>\n"
    ]
    for notification_id, (sobject, fields) in zip(ids, notifications, strict=True):
        parts.append(f"<Notification><Id>{notification_id}</Id>")
        parts.append(
            f'<sObject xsi:type="sf:{sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        )
        for name, value in fields.items():
            parts.append(f"<sf:{name}>{escape(str(value), quote=False)}</sf:{name}>")
        parts.append("</sObject></Notification>\n")
    parts.append("</notifications>\n</soapenv:Body>\n</soapenv:Envelope>\n")
    return "".join(parts).encode()


def change_event(
    entity: str,
    change_type: str,
    fields: Mapping[str, Any],
    *,
    record_ids: Sequence[str] = (OPP,),
    at: datetime = AT,
    transaction: str = "tx-0001",
    sequence: int = 1,
    commit_number: int = 10_969_000_000_001,
    user: str = USER_1,
    changed: Sequence[str] | None = None,
    nulled: Sequence[str] = (),
    org: str = ORG,
    cloudevent_id: str = "ce-0001",
) -> dict[str, Any]:
    """A CDC change event in a CloudEvents envelope, as the relay posts it."""
    header = {
        "entityName": entity,
        "recordIds": list(record_ids),
        "changeType": change_type,
        "changeOrigin": "com/salesforce/api/rest/62.0;client=SfdcInternalAPI/",
        "transactionKey": transaction,
        "sequenceNumber": sequence,
        "commitTimestamp": int(at.timestamp() * 1000),
        "commitNumber": commit_number,
        "commitUser": user,
        "nulledFields": list(nulled),
        "diffFields": [],
        "changedFields": list(changed if changed is not None else []),
    }
    return {
        "specversion": "1.0",
        "id": cloudevent_id,
        "source": f"urn:salesforce:{org}/data/{entity}ChangeEvent",
        "type": f"com.salesforce.cdc.{entity}ChangeEvent",
        "subject": record_ids[0] if record_ids else None,
        "time": sf_time(at),
        "datacontenttype": "application/json",
        "data": {
            "schema": "schema-id",
            "payload": {"ChangeEventHeader": header, **fields},
            "event": {"replayId": 1},
        },
    }


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def settings_for(tmp_path: Path, document: Mapping[str, Any], **overrides: Any) -> IngestSettings:
    """Settings allowing ORG, with the mapping `document` written under tmp_path."""
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps(document))
    values: dict[str, Any] = {
        "ingest_secret": SecretStr(SECRET),
        "ingest_mapping_file": path,
        "salesforce_org_id": ORG,
        "database_url": f"sqlite:///{tmp_path / 'never-used' / 'db.sqlite'}",
        **overrides,
    }
    return IngestSettings(**values)


@asynccontextmanager
async def client_of(
    adapter: Adapter, sink: InMemoryEventSink, settings: IngestSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app serving `adapter` only, on the fixed clock."""
    app = create_app(settings, sink=sink, clock=FixedClock(NOW), adapters=[adapter])
    async with serve(app) as client:
        yield client
