"""Scoring alerts against ground-truth labels: matching, counts, timing, the report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from simulator.labels import Label, LabelFile, Pattern, Scenario, make_label
from simulator.rules import implemented_rules
from simulator.scoring import (
    ObservedAlert,
    RuleScore,
    Spread,
    render_table,
    score,
    to_json,
)

ALL_RULES = frozenset(
    {"stale_opp", "attrition_risk", "activity_pacing", "ramp_gap", "goal_pacing", "team_lagging"}
)
SCENARIO = Scenario(
    name="unit",
    seed=1,
    reps=2,
    weeks=26,
    start=date(2026, 1, 5),
    end=date(2026, 7, 5),
    stages=("Prospecting", "Proposal"),
)


def labels_of(*labels: Label) -> LabelFile:
    return LabelFile(scenario=SCENARIO, labels=labels)


def alert(
    rule: str,
    started: date,
    *,
    subject_type: str = "rep",
    subject_id: str = "rep-1",
    rep_id: str = "rep-1",
    team: str | None = "East",
    valence: str = "warning",
    state: str = "firing",
) -> ObservedAlert:
    return ObservedAlert(
        rule=rule,
        subject_type=subject_type,
        subject_id=subject_id,
        rep_id=rep_id,
        team=team,
        valence=valence,
        state=state,
        started_at=datetime.combine(started, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9),
    )


def stale(started: date, opportunity: str = "opp-1", rep: str = "rep-1") -> ObservedAlert:
    return alert(
        "stale_opp", started, subject_type="opportunity", subject_id=opportunity, rep_id=rep
    )


ABANDONED = make_label(
    Pattern.ABANDONED_DEAL,
    subject_type="opportunity",
    subject_id="opp-1",
    rep_id="rep-1",
    start=date(2026, 2, 2),
    end=date(2026, 2, 27),
)
PTO = make_label(
    Pattern.PTO,
    subject_type="rep",
    subject_id="rep-2",
    rep_id="rep-2",
    start=date(2026, 3, 2),
    end=date(2026, 3, 13),
)
HOLIDAY = make_label(
    Pattern.HOLIDAY_WEEK,
    subject_type="org",
    subject_id="org",
    start=date(2026, 5, 25),
    end=date(2026, 5, 29),
)
GOAL_AHEAD = make_label(
    Pattern.GOAL_AHEAD,
    subject_type="rep",
    subject_id="rep-1",
    rep_id="rep-1",
    start=date(2026, 3, 1),
    end=date(2026, 3, 31),
)

TEAM_DIP = make_label(
    Pattern.TEAM_DIP,
    subject_type="team",
    subject_id="East",
    team="East",
    start=date(2026, 4, 6),
    end=date(2026, 4, 24),
)


def rule_score(scores: list[RuleScore], rule: str) -> RuleScore:
    return next(item for item in scores if item.rule == rule)


# (case, labels, alerts, rule, expected fields of that rule's score)
CASES: list[tuple[str, tuple[Label, ...], list[ObservedAlert], str, dict[str, Any]]] = [
    (
        "true positive",
        (ABANDONED,),
        [stale(date(2026, 2, 16))],
        "stale_opp",
        {"alerts": 1, "true_positives": 1, "detected": 1, "precision": 1.0, "recall": 1.0},
    ),
    (
        "alert long after the window is a false positive",
        (ABANDONED,),
        [stale(date(2026, 4, 1))],
        "stale_opp",
        {"true_positives": 0, "false_positives": 1, "confounded": {}, "recall": 0.0},
    ),
    (
        "alert before the label starts is a false positive",
        (ABANDONED,),
        [stale(date(2026, 2, 1))],
        "stale_opp",
        {"false_positives": 1, "detected": 0},
    ),
    (
        "alert within grace after the last day still counts",
        (ABANDONED,),
        [stale(date(2026, 3, 5))],
        "stale_opp",
        {"true_positives": 1, "delay_days": Spread(31.0, 31.0, 31.0)},
    ),
    (
        "rep's PTO explains a stale deal of theirs",
        (ABANDONED, PTO),
        [stale(date(2026, 3, 10), opportunity="opp-9", rep="rep-2")],
        "stale_opp",
        {"false_positives": 1, "confounded": {"pto": 1}, "precision": 0.0, "recall": 0.0},
    ),
    (
        "another rep's PTO explains nothing",
        (PTO,),
        [stale(date(2026, 3, 10), opportunity="opp-9", rep="rep-3")],
        "stale_opp",
        {"false_positives": 1, "confounded": {}, "recall": None},
    ),
    (
        "org-level holiday explains anyone's alert",
        (HOLIDAY,),
        [stale(date(2026, 5, 27), rep="rep-7"), alert("activity_pacing", date(2026, 5, 28))],
        "stale_opp",
        {"false_positives": 1, "confounded": {"holiday_week": 1}},
    ),
    (
        "org-level holiday explains effort alerts too",
        (HOLIDAY,),
        [alert("activity_pacing", date(2026, 5, 28), subject_id="rep-4", rep_id="rep-4")],
        "activity_pacing",
        {"false_positives": 1, "confounded": {"holiday_week": 1}},
    ),
    (
        "team label matches the team's alert",
        (TEAM_DIP,),
        [alert("team_lagging", date(2026, 4, 9), subject_type="team", subject_id="East")],
        "team_lagging",
        {"true_positives": 1, "recall": 1.0},
    ),
    (
        "team label ignores another team",
        (TEAM_DIP,),
        [
            alert(
                "team_lagging",
                date(2026, 4, 9),
                subject_type="team",
                subject_id="West",
                team="West",
            )
        ],
        "team_lagging",
        {"true_positives": 0, "false_positives": 1},
    ),
    (
        "kudos pattern needs a positive alert",
        (GOAL_AHEAD,),
        [alert("goal_pacing", date(2026, 3, 10), valence="positive")],
        "goal_pacing",
        {"true_positives": 1, "recall": 1.0, "delay_days": Spread(9.0, 9.0, 9.0)},
    ),
    (
        "a warning does not detect a kudos pattern",
        (GOAL_AHEAD,),
        [alert("goal_pacing", date(2026, 3, 10), valence="warning")],
        "goal_pacing",
        {"true_positives": 0, "false_positives": 1, "detected": 0, "recall": 0.0},
    ),
    (
        "an alert that never fired does not count",
        (ABANDONED,),
        [replace(stale(date(2026, 2, 16)), fired=False)],
        "stale_opp",
        {"alerts": 0, "precision": None, "recall": 0.0, "delay_days": None},
    ),
    (
        "no labels means no recall",
        (),
        [stale(date(2026, 2, 16))],
        "stale_opp",
        {"signals": 0, "recall": None, "precision": 0.0},
    ),
]


@pytest.mark.parametrize(
    ("labels", "alerts", "rule", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_score(
    labels: tuple[Label, ...], alerts: list[ObservedAlert], rule: str, expected: dict[str, Any]
) -> None:
    result = rule_score(score(labels_of(*labels), alerts, implemented_rules=ALL_RULES), rule)
    actual = {name: getattr(result, name) for name in expected}
    assert actual == expected


def disengaging(rep: str, start: date, end: date, **details: Any) -> Label:
    return make_label(
        Pattern.DISENGAGING,
        subject_type="rep",
        subject_id=rep,
        rep_id=rep,
        start=start,
        end=end,
        **details,
    )


def test_attrition_lead_time_in_weeks_from_departure() -> None:
    labels = labels_of(
        disengaging("rep-1", date(2026, 3, 2), date(2026, 4, 13)),  # departs on its end
        disengaging("rep-2", date(2026, 3, 2), date(2026, 4, 13), departs_on="2026-04-20"),
        disengaging("rep-3", date(2026, 3, 2), date(2026, 4, 13)),  # never detected
    )
    alerts = [
        alert("attrition_risk", date(2026, 3, 23), subject_id="rep-1", rep_id="rep-1"),
        alert("attrition_risk", date(2026, 4, 6), subject_id="rep-1", rep_id="rep-1"),
        alert("attrition_risk", date(2026, 3, 23), subject_id="rep-2", rep_id="rep-2"),
    ]
    result = rule_score(score(labels, alerts, implemented_rules=ALL_RULES), "attrition_risk")
    assert (result.signals, result.detected, result.true_positives) == (3, 2, 3)
    assert result.lead_time_weeks == Spread(median=3.5, minimum=3.0, maximum=4.0)
    assert result.delay_days is None


def test_every_catalog_rule_and_every_seen_rule_gets_a_row() -> None:
    scores = score(
        labels_of(ABANDONED),
        [alert("brand_new_rule", date(2026, 2, 3))],
        implemented_rules={"stale_opp", "brand_new_rule"},
    )
    by_rule = {item.rule: item for item in scores}
    assert set(by_rule) >= ALL_RULES | {"happy_ears", "brand_new_rule"}
    assert by_rule["stale_opp"].implemented and by_rule["brand_new_rule"].implemented
    assert not by_rule["attrition_risk"].implemented
    assert by_rule["brand_new_rule"].false_positives == 1


def test_render_table_cells() -> None:
    labels = labels_of(ABANDONED, PTO, disengaging("rep-1", date(2026, 3, 2), date(2026, 4, 13)))
    alerts = [stale(date(2026, 2, 16)), stale(date(2026, 3, 9), "opp-9", "rep-2")]
    scores = score(labels, alerts, implemented_rules={"stale_opp", "activity_pacing"})
    table = render_table(scores, "standard")
    lines = table.splitlines()
    assert lines[0] == "scenario: standard"
    assert lines[1].split() == [
        "rule",
        "alerts",
        "precision",
        "recall",
        "lead",
        "time",
        "/",
        "delay",
        "notes",
    ]
    stale_row = next(line for line in lines if line.startswith("stale_opp "))
    for cell in ("50% (1/2)", "100% (1/1)", "delay 14.0 d (median)", "FP from confounders: pto 1"):
        assert cell in stale_row
    attrition_row = next(line for line in lines if line.startswith("attrition_risk "))
    assert "no rule yet" in attrition_row and "1 signal labels" in attrition_row
    pacing_row = next(line for line in lines if line.startswith("activity_pacing "))
    assert "no labels" in pacing_row and "no alerts" in pacing_row
    assert "no rule yet" not in pacing_row
    # Fixed width: every row's second cell starts under the "alerts" header.
    column = lines[1].index("alerts")
    assert {line[column - 2 : column] for line in lines[3:]} == {"  "}
    assert all(line[column] != " " for line in lines[3:])


def test_to_json_is_plain_data() -> None:
    scores = score(labels_of(ABANDONED), [stale(date(2026, 2, 16))], implemented_rules=ALL_RULES)
    stale_json = next(item for item in to_json(scores)["rules"] if item["rule"] == "stale_opp")
    assert stale_json == {
        "rule": "stale_opp",
        "implemented": True,
        "alerts": 1,
        "true_positives": 1,
        "false_positives": 0,
        "confounded": {},
        "signals": 1,
        "detected": 1,
        "precision": 1.0,
        "recall": 1.0,
        "lead_time_weeks": None,
        "delay_days": {"median": 14.0, "min": 14.0, "max": 14.0},
    }


API_ALERT = {
    "fingerprint": "f" * 32,
    "rule": "stale_opp",
    "subject_type": "opportunity",
    "subject_id": "opp-1",
    "rep_id": "rep-1",
    "team": "East",
    "valence": "warning",
    "state": "firing",
    "started_at": "2026-02-16T09:00:00+00:00",
    "resolved_at": None,
}


@pytest.mark.parametrize(
    ("changes", "fired"),
    [
        ({}, True),
        ({"state": "pending"}, False),
        ({"state": "resolved", "resolved_at": "2026-02-20T09:00:00Z"}, True),
        (
            {
                "state": "resolved",
                "transitions": [{"to_state": "pending"}, {"to_state": "resolved"}],
            },
            False,
        ),
        (
            {
                "state": "resolved",
                "transitions": [{"to_state": "firing"}, {"to_state": "resolved"}],
            },
            True,
        ),
    ],
)
def test_from_api_decides_whether_it_fired(changes: dict[str, Any], fired: bool) -> None:
    observed = ObservedAlert.from_api({**API_ALERT, **changes})
    assert observed.fired is fired
    assert observed.started_at == datetime(2026, 2, 16, 9, tzinfo=UTC)


def test_from_api_parses_offsets_to_utc() -> None:
    observed = ObservedAlert.from_api(
        {**API_ALERT, "started_at": "2026-02-16T04:00:00-05:00", "resolved_at": "2026-02-17T00Z"}
    )
    assert observed.started_at == datetime(2026, 2, 16, 9, tzinfo=UTC)
    assert observed.resolved_at == datetime(2026, 2, 17, tzinfo=UTC)
    with pytest.raises(ValueError, match="without an offset"):
        ObservedAlert.from_api({**API_ALERT, "started_at": "2026-02-16T09:00:00"})


def test_implemented_rules_come_from_the_rules_package() -> None:
    assert "stale_opp" in implemented_rules()
    assert implemented_rules() <= ALL_RULES | {"happy_ears", "past_close_date", "low_coverage"}
