"""The morning digest email: structure, headers, determinism, size, escaping."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

from services.digest.email_digest import DigestLinks, build_digest, digest_message_id, rank
from services.digest.notifiers.base import Recipient
from tests.unit.services.digest.factories import T0, item

DAY = date(2026, 11, 2)
MANAGER = Recipient("mgr-1", "Mia Manager", "mia@example.com")
LINKS = DigestLinks("http://app.local", "http://app.local/v1/digests/mgr-1/unsubscribe?token=t")


def build(items: list, *, manager: Recipient = MANAGER, day: date = DAY) -> EmailMessage:
    return build_digest(
        recipient=manager,
        digest_date=day,
        items=items,
        sender="Salescoach <digest@salescoach.local>",
        domain="salescoach.local",
        links=LINKS,
        generated_at=T0,
    )


def test_multipart_alternative_with_text_first_then_html() -> None:
    message = build([item(1), item(2, valence="positive", title="Record week")])
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Opportunity 1 has gone quiet" in body
        assert "Book a call with the champion" in body
        assert "Record week" in body
    assert "width:600px" in html and "<style" not in html  # inline CSS only


def test_headers_for_delivery_and_one_click_unsubscribe() -> None:
    message = build([item(1)])
    assert message["From"] == "Salescoach <digest@salescoach.local>"
    assert message["To"] == "Mia Manager <mia@example.com>"
    assert message["List-Unsubscribe"] == f"<{LINKS.unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"] == "Your Salescoach digest for Mon 2 Nov: 1 need attention, 0 kudos"
    assert message["Date"] == "Mon, 02 Nov 2026 14:00:00 +0000"


def test_message_id_is_deterministic_per_manager_and_date() -> None:
    first = build([item(1)])["Message-ID"]
    again = build([item(1), item(2)])["Message-ID"]
    assert first == again == digest_message_id("mgr-1", DAY, "salescoach.local")
    assert first.startswith("<digest-2026-11-02-") and first.endswith("@salescoach.local>")
    assert build([item(1)], day=date(2026, 11, 3))["Message-ID"] != first
    other = Recipient("mgr-2", "Max", "max@example.com")
    assert build([item(1)], manager=other)["Message-ID"] != first


def test_an_empty_digest_says_all_clear() -> None:
    message = build([])
    assert message["Subject"].endswith("all clear")
    assert "All clear" in message.get_body(("plain",)).get_content()


def test_many_alerts_stay_well_under_gmail_clipping() -> None:
    items = [
        item(i, why="w" * 3000, next_step="n" * 3000, numbers={f"m{k}": k for k in range(30)})
        for i in range(500)
    ]
    raw = build(items).as_bytes()
    assert len(raw) < 100_000
    parsed = message_from_bytes(raw, policy=policy.default)
    text = parsed.get_body(("plain",)).get_content()
    assert "... and 490 more" in text


def test_html_escapes_alert_text_and_text_part_keeps_it_verbatim() -> None:
    message = build([item(1, title="<script>alert(1)</script> & co")])
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script> & co" in text


def test_most_severe_then_longest_standing_first() -> None:
    newer_critical = item(1, severity="critical")
    older_warning = item(9, severity="warning")
    newer_warning = item(2, severity="warning")
    ranked = rank([newer_warning, older_warning, newer_critical])
    assert ranked == [newer_critical, older_warning, newer_warning]
