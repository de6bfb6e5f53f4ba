"""Pipedrive webhooks v2: one POST per change, `{data, previous, meta}` as Pipedrive sends it.

POST /v1/webhooks/pipedrive, application/json, HTTP Basic auth (the webhook's http_auth_user
and http_auth_password; Pipedrive signs nothing). Identity: `meta.id`, which a redelivery
(`redeliver`, `meta.attempt` 2–4) keeps.

- `opportunity.*` → entity `deal` (id from opportunity_id): create on opportunity.created,
  change otherwise. Won/lost are statuses, not stages: stage_id stays on the last open stage
  and status becomes won|lost with won_time|lost_time, close_time and lost_reason.
- `email.sent`, `email.replied`, `call.made` → `activity` create, done true, type email|call.
  A reply's subject starts with `INBOUND_SUBJECT_PREFIX` ("[Inbound] Re: …"). A call's outcome
  is in its subject (`CALL_SUBJECTS`); its duration is whole minutes, rounded up.
- `meeting.*` → `activity` type meeting (id from meeting_id): create (done false) when
  scheduled, change (done true) when held. The subject starts with "Intro meeting" or
  "Follow-up meeting" (the kind).
- due_time and duration (UTC, "HH:MM") are plain strings or null on create and
  `{"timezone_id": null, "value": "HH:MM"}` objects on change, as Pipedrive sends them.
- `previous` is null on create and holds only the changed fields on change.
Record fields and ids: see `pipedrive_records`.

`mapping()` keys: vendor, company_id, users (user id → rep_id), pipelines (id → name), stages
(stage id → {name, pipeline_id, canonical_stage, order}), statuses (open|won|lost → canonical
event type or null), activity_types (type → canonical kind), inbound_subject_prefix,
call_subjects (subject → connected), meeting_subject_prefixes (prefix → kind), meeting_done
("false"|"true" → meeting.scheduled|meeting.held), records (entity → {id → canonical id} for
user, organization, person, deal and meeting activities). Integer ids are JSON string keys.
`ingest_mapping()` is ingest's `pipedrive` mapping section: company_ids, users, pipelines
(id → {name, stages: stage id → stage, in order}), activity_types and the subject conventions.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from simulator.org import Org
from simulator.vendors import canonical as c
from simulator.vendors import pipedrive_records as r
from simulator.vendors.base import CanonicalEvent, Delivery
from simulator.vendors.ids import derived_int, derived_uuid

PATH = "/v1/webhooks/pipedrive"
CONTENT_TYPE = "application/json"
MAX_ATTEMPT = 4
DEFAULT_STAGE_IDS = r.DEFAULT_STAGE_IDS
INBOUND_SUBJECT_PREFIX = r.INBOUND_SUBJECT_PREFIX
CALL_SUBJECTS = r.CALL_SUBJECTS


class PipedriveFormatter:
    """Canonical CRM events as Pipedrive webhooks v2 deliveries."""

    vendor = "pipedrive"
    path = PATH
    content_type = CONTENT_TYPE

    def __init__(
        self,
        org: Org,
        *,
        company_id: int,
        http_user: str,
        http_password: str,
        pipelines: Mapping[str, Sequence[str]] | None = None,
        webhook_id: int = 4_710_827,
        host: str = "pd-us.pipedrive.com",
    ) -> None:
        self.org, self.company_id, self.host = org, company_id, host
        self.records = r.PipedriveRecords(org, pipelines)
        self._auth = base64.b64encode(f"{http_user}:{http_password}".encode()).decode()
        self._webhook_id = webhook_id
        # The webhook belongs to the org's first person (a manager, as an admin would be).
        self._webhook_owner = self.records.user(org.people[0].rep_id) if org.people else 1

    def accepts(self, event: CanonicalEvent) -> bool:
        return c.is_crm_event(event)

    def format(self, events: Sequence[CanonicalEvent]) -> list[Delivery]:
        """One delivery per event: Pipedrive sends each change on its own."""
        c.require_crm(events)
        return [self._format_one(event) for event in events]

    def sign(self, delivery: Delivery, *, url: str, now: datetime) -> dict[str, str]:
        """HTTP Basic: the only auth Pipedrive webhooks have, the same for every request."""
        del delivery, url, now
        return {"Authorization": f"Basic {self._auth}"}

    def redeliver(self, delivery: Delivery, attempt: int) -> Delivery:
        """The same delivery as Pipedrive's retry `attempt` sends it (same meta.id)."""
        if not 1 <= attempt <= MAX_ATTEMPT:
            raise ValueError(f"attempt must be 1..{MAX_ATTEMPT}")
        body = orjson.loads(delivery.body)
        body["meta"]["attempt"] = attempt
        return Delivery(
            path=delivery.path,
            body=orjson.dumps(body),
            content_type=delivery.content_type,
            identity=delivery.identity,
            occurred_at=delivery.occurred_at,
        )

    def stage_names(self) -> dict[int, str]:
        """Stage id → stage name, for every stage configured or met so far."""
        return {stage_id: name for (_, name), stage_id in self.records.stages.items()}

    def mapping(self) -> dict[str, Any]:
        """What an ingest adapter needs to map ids and values back (see the module docstring)."""
        records = self.records
        stages: dict[str, Any] = {}
        orders: dict[int, int] = {}  # stages in a pipeline are ordered as configured or met
        for (pipeline_id, name), stage_id in records.stages.items():
            order = orders[pipeline_id] = orders.get(pipeline_id, -1) + 1
            info = {"name": name, "pipeline_id": pipeline_id, "canonical_stage": name}
            stages[str(stage_id)] = {**info, "order": order}
        return {
            "vendor": self.vendor,
            "company_id": str(self.company_id),
            "users": dict(records.emitted["user"]),
            "pipelines": {str(i): name for name, i in records.pipelines.items()},
            "stages": stages,
            "statuses": {
                "open": None,
                "won": "opportunity.closed_won",
                "lost": "opportunity.closed_lost",
            },
            "activity_types": {"email": "email", "call": "call", "meeting": "meeting"},
            "inbound_subject_prefix": INBOUND_SUBJECT_PREFIX,
            "call_subjects": {subject: ok for ok, subject in CALL_SUBJECTS.items()},
            "meeting_subject_prefixes": {v: k for k, v in c.MEETING_SUBJECTS.items()},
            "meeting_done": {"false": "meeting.scheduled", "true": "meeting.held"},
            "records": {name: dict(ids) for name, ids in records.emitted.items()},
        }

    def ingest_mapping(self) -> dict[str, Any]:
        """This company's section of ingest's mapping file (services/ingest/adapters/
        pipedrive_mapping.py): the org's users, the pipelines' stages, the subject conventions."""
        records = self.records
        names = {pipeline_id: name for name, pipeline_id in records.pipelines.items()}
        pipelines: dict[str, dict[str, Any]] = {
            str(pipeline_id): {"name": name, "stages": {}} for pipeline_id, name in names.items()
        }
        for (pipeline_id, stage), stage_id in records.stages.items():  # in funnel order
            pipelines[str(pipeline_id)]["stages"][str(stage_id)] = stage
        return {
            "company_ids": [str(self.company_id)],
            "users": dict(records.emitted["user"]),
            "pipelines": pipelines,
            "activity_types": {"email": "email", "call": "call", "meeting": "meeting"},
            "inbound_subject_prefix": INBOUND_SUBJECT_PREFIX,
            "call_subjects": {subject: ok for ok, subject in CALL_SUBJECTS.items()},
            "meeting_subject_prefixes": {v: k for k, v in c.MEETING_SUBJECTS.items()},
        }

    def _format_one(self, event: CanonicalEvent) -> Delivery:
        kind = str(event["type"])
        entity = "deal" if kind.startswith("opportunity.") else "activity"
        before: dict[str, Any] | None = None
        if entity == "deal":
            before, after = self.records.deal(event)
        elif kind.startswith("meeting."):
            before, after = self.records.meeting(event)
        else:
            after = self.records.logged_activity(event)
        previous = None
        if before is not None:
            previous = {k: before.get(k) for k in after if before.get(k) != after[k]}
        return self._delivery(event, entity, after, previous)

    def _delivery(
        self,
        event: CanonicalEvent,
        entity: str,
        data: dict[str, Any],
        previous: dict[str, Any] | None,
    ) -> Delivery:
        meta = self._meta(event, entity, data, "create" if previous is None else "change")
        body = {"data": data, "previous": previous, "meta": meta}
        return Delivery(
            path=PATH,
            body=orjson.dumps(body),
            content_type=CONTENT_TYPE,
            identity=str(meta["id"]),
            occurred_at=c.occurred_at(event),
        )

    def _meta(
        self, event: CanonicalEvent, entity: str, data: dict[str, Any], action: str
    ) -> dict[str, Any]:
        """The `meta` block, keys in the order Pipedrive sends them."""
        event_id = str(event["event_id"])
        # Pipedrive stamps the webhook a little after the change it reports.
        delay = timedelta(milliseconds=derived_int(1000, "pipedrive-ms", event_id))
        stamped = c.occurred_at(event) + delay
        user = self.records.user(str(event["rep_id"]))
        return {
            "action": action,
            "company_id": str(self.company_id),
            "correlation_id": derived_uuid("pipedrive-correlation", event_id),
            "entity_id": str(data["id"]),
            "entity": entity,
            "id": derived_uuid("pipedrive", str(self.company_id), event_id),
            "is_bulk_edit": False,
            "timestamp": stamped.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{stamped.microsecond // 1000:03d}Z",
            "type": "general",
            "user_id": str(user),
            "version": "2.0",
            "webhook_id": str(self._webhook_id),
            "webhook_owner_id": str(self._webhook_owner),
            "change_source": "app",
            "permitted_user_ids": self._permitted(int(data.get("owner_id") or user)),
            "attempt": 1,
            "host": self.host,
        }

    def _permitted(self, owner: int) -> list[str]:
        """Users who may see the record: its owner, the owner's manager, the webhook's owner."""
        users = [owner]
        rep_id = self.records.emitted["user"].get(str(owner))
        try:
            manager = self.org.person(rep_id).manager_id if rep_id else None
        except KeyError:
            manager = None
        if manager:
            users.append(self.records.user(manager))
        users.append(self._webhook_owner)
        return [str(u) for u in dict.fromkeys(users)]
