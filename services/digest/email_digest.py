"""The morning digest email for one manager and one date: a pure builder.

multipart/alternative with the plain-text part first and an HTML part (inline CSS, 600 px,
autoescaped jinja2) second; a Message-ID that is the same for the same (manager, date), so
any resend is recognisable as the same message; one-click unsubscribe headers (RFC 8058).
Detail is capped (top alerts, bounded text) so the message stays far below Gmail's ~100 KB
clipping size however many alerts are firing.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.digest.notifiers.base import Recipient
from services.digest.notifiers.blocks import period_text, shown_numbers, truncate
from shared.alerting import Number

TOP_ATTENTION = 10
TOP_KUDOS = 5
TOP_REPS = 5
NUMBERS_PER_ALERT = 6
TEXT_MAX = 400

_SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    # HTML is escaped; the plain-text part must not be (a "&" stays "&").
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class DigestItem:
    """One firing alert as the digest shows it."""

    fingerprint: str
    title: str
    why: str
    next_step: str
    severity: str
    valence: str
    rep_id: str
    rep_name: str
    started_at: datetime
    subject: str = ""
    period: str = ""
    numbers: Mapping[str, Number] = field(default_factory=dict)

    @property
    def kudos(self) -> bool:
        return self.valence == "positive"


@dataclass(frozen=True)
class DigestLinks:
    """Where the digest's links point."""

    app_url: str
    unsubscribe_url: str


def digest_message_id(manager_id: str, digest_date: date, domain: str) -> str:
    """The Message-ID of a manager's digest for a date: the same on every (re)send."""
    person = hashlib.sha256(manager_id.encode()).hexdigest()[:20]
    return f"<digest-{digest_date.isoformat()}-{person}@{domain}>"


def rank(items: Sequence[DigestItem]) -> list[DigestItem]:
    """Most severe first; among equals, the longest-standing first."""
    return sorted(
        items, key=lambda item: (_SEVERITY_RANK.get(item.severity, 3), item.started_at, item.title)
    )


def build_digest(
    *,
    recipient: Recipient,
    digest_date: date,
    items: Sequence[DigestItem],
    sender: str,
    domain: str,
    links: DigestLinks,
    generated_at: datetime,
) -> EmailMessage:
    """The complete digest message, ready for SMTP."""
    context = _context(recipient, digest_date, items, links)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(display_name=recipient.name, addr_spec=recipient.email)
    message["Subject"] = _subject(digest_date, context)
    message["Date"] = format_datetime(generated_at)
    message["Message-ID"] = digest_message_id(recipient.person_id, digest_date, domain)
    message["List-Unsubscribe"] = f"<{links.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_TEMPLATES.get_template("digest.txt.j2").render(context))
    message.add_alternative(
        _TEMPLATES.get_template("digest.html.j2").render(context), subtype="html"
    )
    return message


def _subject(digest_date: date, context: Mapping[str, object]) -> str:
    counts = context["counts"]
    assert isinstance(counts, dict)
    day = f"{digest_date:%a} {digest_date.day} {digest_date:%b}"
    if not counts["total"]:
        return f"Your Salescoach digest for {day}: all clear"
    return (
        f"Your Salescoach digest for {day}: {counts['attention']} need attention, "
        f"{counts['kudos']} kudos"
    )


def _context(
    recipient: Recipient, digest_date: date, items: Sequence[DigestItem], links: DigestLinks
) -> dict[str, object]:
    ranked = rank(items)
    attention = [item for item in ranked if not item.kudos]
    kudos = [item for item in ranked if item.kudos]
    return {
        "recipient": recipient,
        "day": f"{digest_date:%A} {digest_date.day} {digest_date:%B %Y}",
        "attention": [_view(item, links) for item in attention[:TOP_ATTENTION]],
        "attention_more": max(len(attention) - TOP_ATTENTION, 0),
        "kudos": [_view(item, links) for item in kudos[:TOP_KUDOS]],
        "kudos_more": max(len(kudos) - TOP_KUDOS, 0),
        "needs_help": _needs_help(attention),
        "counts": {
            "total": len(items),
            "attention": len(attention),
            "kudos": len(kudos),
            "critical": sum(1 for item in attention if item.severity == "critical"),
        },
        "links": links,
    }


def _view(item: DigestItem, links: DigestLinks) -> dict[str, object]:
    numbers = shown_numbers(item.numbers)[:NUMBERS_PER_ALERT]
    return {
        "title": truncate(item.title, 200),
        "why": truncate(item.why, TEXT_MAX),
        "next_step": truncate(item.next_step, TEXT_MAX),
        "severity": item.severity,
        "who": item.rep_name or item.rep_id,
        "subject": truncate(item.subject, 120),
        "period": period_text(item.period),
        "numbers": [(label, truncate(value, 60)) for label, value in numbers],
        "url": f"{links.app_url}/v1/alerts/{item.fingerprint}",
    }


def _needs_help(attention: Sequence[DigestItem]) -> list[tuple[str, int]]:
    """Reps with the most open warnings, most first."""
    counts = Counter(item.rep_name or item.rep_id for item in attention)
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_REPS]
