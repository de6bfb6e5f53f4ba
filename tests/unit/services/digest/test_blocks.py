"""The Block Kit builder: content, Slack's limits, escaping, and no secrets in output."""

from __future__ import annotations

import json

import pytest

from services.digest.notifiers.blocks import (
    FIELDS_MAX,
    HEADER_MAX,
    SECTION_MAX,
    alert_message,
    format_number,
    mrkdwn,
)
from shared.alerting import AlertState
from tests.unit.services.digest.factories import TOKEN, alert


def texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_firing_message_has_header_why_numbers_next_step_and_context() -> None:
    message = alert_message(alert(), link="http://app.local/alerts/abc")
    kinds = [block["type"] for block in message.blocks]
    assert kinds == ["header", "section", "section", "section", "context"]
    header, why, numbers, next_step, context = message.blocks
    assert header["text"]["text"] == "⚠️ Globex renewal has gone quiet"
    assert why["text"]["text"].startswith("No email, call or meeting for 21 days")
    assert [f["text"] for f in numbers["fields"]] == [
        "*Days since touch*\n21",
        "*Threshold days*\n14",
        "*Amount*\n$12,000.5",  # amounts carry their currency (USD when unstated)
    ]
    assert next_step["text"]["text"].startswith("*Next step*\nAsk Rita")
    context_text = texts(context["elements"])
    for expected in (
        "Rep: Rita Rep",
        "Opportunity: Globex renewal",
        "<http://app.local/alerts/abc|",
    ):
        assert expected in context_text
    assert "Globex renewal has gone quiet" in message.text


def test_resolved_message_says_so_and_drops_the_next_step() -> None:
    message = alert_message(alert(AlertState.RESOLVED))
    assert message.blocks[0]["text"]["text"].startswith("✅ Resolved: ")
    assert "*Resolved* on Mon 02 Nov 2026" in message.blocks[1]["text"]["text"]
    assert "Next step" not in texts(message.blocks)
    assert message.text.startswith("✅ Resolved: ")


def test_limits_hold_for_oversized_content() -> None:
    huge = alert(
        title="T" * 300,
        why="<&>" * 2000,
        next_step="n" * 5000,
        numbers={f"metric_{i}": i * 1.5 for i in range(25)},
        rep_name="R" * 1000,
    )
    message = alert_message(huge)
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= HEADER_MAX and header.endswith("…")
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section" and "text" in b]
    assert all(len(text) <= SECTION_MAX for text in sections)
    fields = next(b["fields"] for b in message.blocks if "fields" in b)
    assert len(fields) == FIELDS_MAX
    assert all(len(e["text"]) <= 3000 for e in message.blocks[-1]["elements"])
    assert len(message.blocks) <= 50


def test_mrkdwn_control_characters_are_escaped_and_never_cut_mid_entity() -> None:
    message = alert_message(alert(why="Use <!channel> & <http://evil|click>"))
    assert message.blocks[1]["text"]["text"] == (
        "Use &lt;!channel&gt; &amp; &lt;http://evil|click&gt;"
    )
    cut = mrkdwn("a" * 8 + "&&&&", 12)
    assert cut.endswith("…") and not cut[:-1].endswith(("&", "&a", "&am"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (12000, "12,000"),
        (3.0, "3"),
        (0.256, "0.26"),
        (1234.5, "1,234.5"),
        ("n/a", "n/a"),
    ],
)
def test_numbers_read_like_a_manager_expects(value: float | int | str | None, shown: str) -> None:
    assert format_number(value) == shown


def test_no_token_reaches_the_message() -> None:
    message = alert_message(alert(), link="http://app.local/alerts/abc")
    assert TOKEN not in texts(message.blocks) + message.text
    assert "xoxb-" not in texts(message.blocks) + message.text


def test_machine_values_are_shown_as_a_manager_reads_them() -> None:
    numbers = {
        "amount": 84000.0,
        "currency": "EUR",
        "reason": "no_recent_touch",
        "last_touch_at": "2026-10-31T12:00:00+00:00",
        "close_date": "2026-12-31",
    }
    fields = alert_message(alert(numbers=numbers)).blocks[2]["fields"]
    assert [f["text"] for f in fields] == [
        "*Amount*\nEUR 84,000",
        "*Last touch at*\nSat 31 Oct 2026",
        "*Close date*\n31 Dec 2026",
    ]
