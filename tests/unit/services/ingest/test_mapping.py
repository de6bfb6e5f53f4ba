"""The mapping file: validated on load, re-read on change, a bad edit never drops traffic."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr

from services.ingest.app import create_app
from services.ingest.mapping import MappingConfig, MappingError, MappingSource, load_mapping
from services.ingest.mapping_base import PipelineMapping, StageOutcome
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings


def _write(path: Path, document: object) -> Path:
    path.write_bytes(orjson.dumps(document))
    return path


def test_no_file_is_the_empty_mapping() -> None:
    assert load_mapping(None) == MappingConfig()


def test_a_pipeline_knows_its_open_won_and_lost_stages() -> None:
    pipeline = PipelineMapping(stages={"s1": "Discovery", "s2": "Demo"}, won=["w"], lost=["l"])
    assert [pipeline.outcome(s) for s in ("s1", "s2", "w", "l", "zz")] == [
        StageOutcome.OPEN,
        StageOutcome.OPEN,
        StageOutcome.WON,
        StageOutcome.LOST,
        None,
    ]
    assert list(pipeline.stages) == ["s1", "s2"]  # funnel order is the file's order


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"hubspot": {"users": {"1": 2}}}, "hubspot.users.1"),
        ({"pipedrive": {"activity_types": {"call": "fax"}}}, "pipedrive.activity_types.call"),
        ({"zoho": {}}, "zoho"),
    ],
)
def test_an_invalid_file_names_the_field(tmp_path: Path, document: object, where: str) -> None:
    with pytest.raises(MappingError, match=where.replace(".", r"\.")):
        load_mapping(_write(tmp_path / "m.json", document))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping file"):
        load_mapping(tmp_path / "absent.json")


def test_the_source_rereads_a_changed_file_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.json", {"pipedrive": {"users": {"1": "rep-1"}}})
    source = MappingSource(path)
    assert source.current().pipedrive.users == {"1": "rep-1"}
    _write(path, {"pipedrive": {"users": {"1": "rep-1", "2": "rep-2"}}})
    assert source.current().pipedrive.users == {"1": "rep-1", "2": "rep-2"}
    path.write_text('{"pipedrive": {"users": ')  # a half-saved edit
    os.utime(path, ns=(1, 1))
    assert source.current().pipedrive.users == {"1": "rep-1", "2": "rep-2"}


def test_the_app_does_not_start_on_an_invalid_mapping_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.json", {"salesforce": {"users": []}})
    settings = IngestSettings(ingest_secret=SecretStr("x" * 16), ingest_mapping_file=path)
    with pytest.raises(MappingError, match="salesforce.users"):
        create_app(settings, sink=InMemoryEventSink(), adapters=[])
