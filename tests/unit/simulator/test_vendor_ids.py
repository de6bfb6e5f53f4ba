"""Vendor ids: valid-looking, deterministic, stable across processes and releases."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from shared.events import SalesEvent
from simulator.vendors.ids import (
    KEY_PREFIXES,
    PIPEDRIVE_HASH_FLOOR,
    derived_token,
    derived_uuid,
    pipedrive_hash_id,
    pipedrive_id,
    salesforce_checksum,
    salesforce_id,
)
from tests.unit.simulator.vendor_fixtures import story

ROOT = Path(__file__).resolve().parents[3]
# 15-char ids and their 18-char forms from a real outbound message (crm-samples).
REAL_IDS = [
    "00D5w000004qGTOEA2",
    "04k5w000000TSwMAAW",
    "04l5w00005286hAAAQ",
    "0065w000023STAmAAO",
    "0015w00002BFDeLAAX",
    "0035w000035gg9GAAQ",
    "0055w00000BhqR0AAJ",
]


@pytest.mark.parametrize("real", REAL_IDS)
def test_checksum_matches_real_salesforce_ids(real: str) -> None:
    assert salesforce_checksum(real[:15]) == real[15:]


def test_checksum_rejects_malformed_ids() -> None:
    with pytest.raises(ValueError):
        salesforce_checksum("006ABC")
    with pytest.raises(ValueError):
        salesforce_checksum("006-00000000000")


@pytest.mark.parametrize("prefix", sorted(KEY_PREFIXES.values()))
def test_salesforce_ids_look_real(prefix: str) -> None:
    sf_id = salesforce_id(prefix, "opp-000123")
    assert re.fullmatch(r"[A-Za-z0-9]{18}", sf_id)
    assert sf_id.startswith(prefix)
    assert salesforce_checksum(sf_id[:15]) == sf_id[15:]


def test_salesforce_ids_are_distinct_per_record_and_type() -> None:
    ids = {salesforce_id("006", f"opp-{i:06d}") for i in range(5000)}
    assert len(ids) == 5000
    # Unique even to a consumer that compares them case-insensitively, as the 18-char form is.
    assert len({i.lower() for i in ids}) == 5000
    assert salesforce_id("006", "x")[3:] != salesforce_id("00T", "x")[3:]


def test_salesforce_id_rejects_a_bad_prefix() -> None:
    with pytest.raises(ValueError):
        salesforce_id("06", "opp-1")


def test_pipedrive_ids_use_the_canonical_number_when_there_is_one() -> None:
    assert pipedrive_id("deal", "opp-000123") == 123
    assert pipedrive_id("organization", "acc-00012") == 12
    assert pipedrive_id("person", "con-000045") == 45


def test_pipedrive_ids_hash_anything_else_out_of_the_numeric_range() -> None:
    event_id = str(uuid.UUID(int=7))
    hashed = pipedrive_id("activity", event_id)
    assert hashed == pipedrive_hash_id("activity", event_id)
    assert PIPEDRIVE_HASH_FLOOR <= hashed < 2**53
    assert pipedrive_id("activity", "opp-0000000000") >= PIPEDRIVE_HASH_FLOOR  # zero: no id
    assert pipedrive_hash_id("deal", event_id) != hashed  # the kind is part of the hash


def test_pipedrive_hash_ids_do_not_collide_at_scale() -> None:
    ids = {pipedrive_id("activity", str(uuid.UUID(int=i))) for i in range(20_000)}
    assert len(ids) == 20_000


def test_derived_values_are_well_formed() -> None:
    value = derived_uuid("a", "b")
    assert uuid.UUID(value).version == 4
    assert value == derived_uuid("a", "b") != derived_uuid("a", "c")
    assert re.fullmatch(r"[A-Za-z0-9]{22}", derived_token(22, "schema"))


def test_ids_are_stable_across_releases() -> None:
    # Golden values: changing them re-keys every simulated CRM record.
    assert salesforce_id("006", "opp-000123") == "0068W0HsnCBVBRWQS5"
    assert pipedrive_id("activity", str(uuid.UUID(int=7))) == 494122857533732
    assert derived_uuid("golden") == "63d76e53-7be9-432a-a476-fe796a9d8b02"


def test_ids_are_stable_across_processes() -> None:
    code = (
        "from simulator.vendors.ids import salesforce_id, pipedrive_id, derived_uuid;"
        "print(salesforce_id('00T', 'e-1'), pipedrive_id('activity', 'e-x'), derived_uuid('q'))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert outputs.pop().split()[0] == salesforce_id("00T", "e-1")


def test_fixture_events_are_valid_canonical_events() -> None:
    for event in story():
        SalesEvent.model_validate(event)
