"""The command line: files out, clear refusals, scenario overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli import build_parser, main, scenario_from
from simulator.labels import LabelFile
from simulator.output import EVENTS_FILE, LABELS_FILE


def test_generate_writes_events_and_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["generate", "--scenario", "demo", "--weeks", "2", "--seed", "3", "--out", str(tmp_path)]
    )
    assert code == 0
    assert (tmp_path / EVENTS_FILE).stat().st_size > 0
    labels = LabelFile.read(tmp_path / LABELS_FILE)
    assert (labels.scenario.weeks, labels.scenario.seed) == (2, 3)
    assert "events/s" in capsys.readouterr().out


def test_overrides_apply_on_top_of_the_named_scenario() -> None:
    args = build_parser().parse_args(
        ["generate", "--scenario", "standard", "--reps", "9", "--out", "x"]
    )
    config = scenario_from(args)
    assert (config.name, config.reps, config.weeks) == ("standard", 9, 26)


def test_sending_without_the_ingest_secret_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("INGEST_SECRET", raising=False)
    assert main(["replay", "--scenario", "demo", "--weeks", "1"]) == 2
    assert "INGEST_SECRET is not set" in capsys.readouterr().err


def test_a_vendor_format_needs_its_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INGEST_SECRET", "whsec-cli-test")
    monkeypatch.delenv("PIPEDRIVE_USER", raising=False)
    assert main(["replay", "--scenario", "demo", "--weeks", "1", "--format", "pipedrive"]) == 2
    assert "PIPEDRIVE_USER is not set" in capsys.readouterr().err


def test_an_unknown_format_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["replay", "--format", "zoho"])
    assert exited.value.code == 2
    assert "zoho" in capsys.readouterr().err
