"""Block Kit for one alert: a pure function of the alert, within Slack's documented limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.alerting import AlertMessage, AlertState, Number, SubjectType, Valence

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENT_MAX = 300
FALLBACK_MAX = 3000

Block = dict[str, Any]

_VALENCE_EMOJI = {Valence.WARNING: "⚠️", Valence.POSITIVE: "🎉", Valence.NEUTRAL: "ℹ️"}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


@dataclass(frozen=True)
class SlackMessage:
    """The fallback `text` (notifications, screen readers) and the `blocks` to render."""

    text: str
    blocks: list[Block]


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, limit: int) -> str:
    """Escaped mrkdwn within `limit`, never ending in half an entity."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    return _PARTIAL_ENTITY.sub("", escaped[: limit - 1]) + "…"


def humanize(key: str) -> str:
    """`days_since_touch` -> `Days since touch`."""
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def format_number(value: Number) -> str:
    """Numbers as a manager reads them: thousands separators, at most two decimals."""
    if value is None:
        return "—"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def alert_message(alert: AlertMessage, *, link: str | None = None) -> SlackMessage:
    """The Slack message for an alert in its current state (firing or resolved)."""
    resolved = alert.state is AlertState.RESOLVED
    emoji = "✅" if resolved else _VALENCE_EMOJI[alert.valence]
    title = f"{emoji} Resolved: {alert.title}" if resolved else f"{emoji} {alert.title}"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, HEADER_MAX)}},
        _section(_why_text(alert)),
    ]
    if fields := _number_fields(alert.numbers):
        blocks.append({"type": "section", "fields": fields})
    if not resolved:
        prefix = "*Next step*\n"
        blocks.append(_section(prefix + mrkdwn(alert.next_step, SECTION_MAX - len(prefix))))
    blocks.append({"type": "context", "elements": _context(alert, link)})
    fallback = f"{title} — {alert.rep_name or alert.rep_id}"
    return SlackMessage(text=truncate(fallback, FALLBACK_MAX), blocks=blocks)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_MAX)}}


def _why_text(alert: AlertMessage) -> str:
    if alert.state is not AlertState.RESOLVED:
        return mrkdwn(alert.why, SECTION_MAX)
    when = (alert.resolved_at or alert.updated_at).strftime("%a %d %b %Y")
    prefix = f"*Resolved* on {when}; no action needed any more.\n_Was:_ "
    return prefix + mrkdwn(alert.why, SECTION_MAX - len(prefix))


def _number_fields(numbers: dict[str, Number]) -> list[Block]:
    fields = []
    for label, value in shown_numbers(numbers)[:FIELDS_MAX]:
        label = mrkdwn(label, 200)
        text = f"*{label}*\n" + mrkdwn(value, FIELD_MAX - len(label) - 3)
        fields.append({"type": "mrkdwn", "text": text})
    return fields


def shown_numbers(numbers: Mapping[str, Number]) -> list[tuple[str, str]]:
    """(label, value) pairs as a manager reads them, machine-only keys left out."""
    return [
        (humanize(key), _display(key, value, numbers))
        for key, value in numbers.items()
        if key not in _MACHINE_ONLY
    ]


# Kept in the alert's numbers for API clients, folded into other fields (or left out) here.
_MACHINE_ONLY = frozenset({"reason", "currency"})


def _display(key: str, value: Number, numbers: Mapping[str, Number]) -> str:
    """A value as a manager reads it: amounts with their currency, dates as dates."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment.strftime("%a %d %b %Y" if len(value) > 10 else "%d %b %Y")
    if key.endswith("amount") and isinstance(value, int | float):
        currency = numbers.get("currency")
        symbol = "$" if currency in (None, "USD") else f"{currency} "
        return symbol + format_number(value)
    return format_number(value)


def period_text(period: str) -> str:
    """`idle-since:2026-10-31` -> `idle since 2026-10-31`."""
    label, _, value = period.partition(":")
    return f"{label.replace('-', ' ')} {value}".strip()


def _context(alert: AlertMessage, link: str | None) -> list[Block]:
    parts = [f"Rep: {alert.rep_name or alert.rep_id}"]
    if alert.subject_type is SubjectType.OPPORTUNITY:
        parts.append(f"Opportunity: {alert.subject_name or alert.subject_id}")
    elif alert.subject_type is SubjectType.TEAM:
        parts.append(f"Team: {alert.subject_name or alert.subject_id}")
    if alert.period:
        parts.append(period_text(alert.period).capitalize())
    parts.append(f"Severity: {alert.severity.value}")
    elements = [{"type": "mrkdwn", "text": mrkdwn(part, CONTEXT_ELEMENT_MAX)} for part in parts]
    if link:
        elements.append({"type": "mrkdwn", "text": f"<{link}|Open in Salescoach>"})
    return elements
