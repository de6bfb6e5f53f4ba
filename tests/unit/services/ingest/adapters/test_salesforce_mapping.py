"""The salesforce section of the mapping file: defaults, validation, the simulator's section."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingest.adapters.salesforce_mapping import STANDARD_STAGES, SalesforceMapping
from services.ingest.mapping import MappingConfig
from simulator.config import ScenarioConfig
from simulator.engine import Simulation
from simulator.vendors import salesforce_records as r
from simulator.vendors.salesforce import SalesforceCdcFormatter, SalesforceOutboundFormatter

ORG = "00D5e000000SiMuEAK"


def test_defaults_are_salesforce_s_standard_values_and_the_simulator_s_custom_fields() -> None:
    section = SalesforceMapping()
    default = section.pipelines["default"]
    assert list(default.stages) == list(STANDARD_STAGES)
    assert (default.won, default.lost) == (["Closed Won"], ["Closed Lost"])
    assert section.activity_types == {"Email": "email", "Call": "call", "Event": "meeting"}
    assert (
        section.direction_field,
        section.meeting_status_field,
        section.meeting_kind_field,
        section.loss_reason_field,
    ) == (r.DIRECTION_FIELD, r.MEETING_STATUS_FIELD, r.MEETING_KIND_FIELD, r.LOSS_REASON_FIELD)
    assert section.call_dispositions == {v: k for k, v in r.CALL_DISPOSITIONS.items()}


@pytest.mark.parametrize(
    "section",
    [
        {"activity_types": {"Email": "fax"}},
        {"email_directions": {"Outbound": "email.opened"}},
        {"meeting_kinds": {"Demo": "demo"}},
        {"currency": "dollars"},
        {"surprise": 1},
    ],
)
def test_invalid_sections_are_refused(section: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MappingConfig.model_validate({"salesforce": section})


@pytest.mark.parametrize("kind", [SalesforceOutboundFormatter, SalesforceCdcFormatter])
def test_the_simulator_s_section_validates_and_knows_the_whole_org(kind: type) -> None:
    simulation = Simulation(ScenarioConfig(name="t", seed=3, reps=4, weeks=1, team_size=4))
    formatter = kind(simulation.org, organization_id=ORG)
    document = formatter.ingest_mapping()
    section = MappingConfig.model_validate({"salesforce": document}).salesforce
    assert sorted(section.users.values()) == sorted(p.rep_id for p in simulation.org.people)
    assert list(section.pipelines["default"].stages) == list(simulation.config.pipeline.stages)
    # Spelled out, the simulator's custom fields are the adapter's defaults.
    defaults = SalesforceMapping()
    for name in ("activity_types", "email_directions", "call_dispositions", "meeting_kinds",
                 "meeting_statuses", "direction_field", "loss_reason_field"):  # fmt: skip
        assert getattr(section, name) == getattr(defaults, name), name
