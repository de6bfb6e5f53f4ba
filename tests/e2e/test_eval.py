"""`python -m simulator eval` end to end: a fresh stack, a scenario through it, a scored table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_eval_scores_the_demo_scenario_through_a_fresh_stack(tmp_path: Path) -> None:
    scores_file = tmp_path / "scores.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "eval",
            "--scenario",
            "demo",
            "--json",
            str(scores_file),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
        cwd=Path.cwd(),
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    table = result.stdout
    assert "rule" in table and "precision" in table and "recall" in table
    rows = {line.split()[0]: line for line in table.splitlines() if line and line[0].isalpha()}
    assert "no rule yet" in rows["attrition_risk"]
    rules = {row["rule"]: row for row in json.loads(scores_file.read_text())["demo"]["rules"]}
    stale = rules["stale_opp"]
    assert stale["implemented"] and stale["signals"] >= 2
    # The yardstick: every abandoned deal of the demo org is caught, and nothing else fires.
    assert stale["recall"] == 1.0, stale
    assert stale["precision"] == 1.0, stale
    assert not rules["attrition_risk"]["implemented"]
