"""Deterministic vendor ids derived from canonical ids: pure functions, stable across processes.

Salesforce: `salesforce_id(key_prefix, canonical_id)` gives an 18-character id: the 3-char key
prefix of the object type, a fixed 2-char pod, a reserved `0`, 9 base-62 characters from a
SHA-256 of the canonical id, and the 3-char case-safe checksum Salesforce appends to make the
15-char id unique case-insensitively.

Pipedrive: `pipedrive_id(kind, canonical_id)` gives a positive int. A canonical id of the form
`<letters>-<up to 9 digits>` ("opp-000123") maps to its number (123), like Pipedrive's small
autoincrement ids; any other id maps to a hash in [10**9, 10**9 + 2**50), disjoint from the
numeric range and below 2**53 so JavaScript consumers read it exactly. Pipedrive ids are per
entity, so one kind must use one canonical prefix (true of the simulator's ids).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from functools import lru_cache

KEY_PREFIXES = {
    "Opportunity": "006",
    "Task": "00T",
    "Event": "00U",
    "User": "005",
    "Account": "001",
    "Contact": "003",
    "Organization": "00D",
    "OutboundMessage": "04k",  # the ActionId of an outbound message definition
    "Notification": "04l",
}
OBJECT_BY_PREFIX = {prefix: name for name, prefix in KEY_PREFIXES.items()}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_POD = "8W"  # the instance part of a real id; any fixed pair of alphanumerics will do
_RECORD_DIGITS = 9
_NUMERIC_ID = re.compile(r"^[A-Za-z]+-0*([1-9][0-9]{0,8})$")
PIPEDRIVE_HASH_FLOOR = 10**9
_PIPEDRIVE_HASH_SPAN = 2**50


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def salesforce_checksum(id15: str) -> str:
    """The 3-char suffix that turns a 15-char Salesforce id into its 18-char form."""
    if len(id15) != 15 or not id15.isalnum():
        raise ValueError(f"not a 15-character Salesforce id: {id15!r}")
    suffix = []
    for start in range(0, 15, 5):
        # Bit i is set when character i of the 5-char chunk is an upper-case letter.
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


@lru_cache(maxsize=1 << 16)  # the same users, accounts and deals recur in every event
def salesforce_id(key_prefix: str, canonical_id: str) -> str:
    """An 18-char Salesforce id for canonical_id as a record of the key prefix's object type."""
    if len(key_prefix) != 3 or not key_prefix.isalnum():
        raise ValueError(f"not a Salesforce key prefix: {key_prefix!r}")
    number = int.from_bytes(_digest("salesforce", key_prefix, canonical_id)[:8], "big")
    number %= len(_BASE62) ** _RECORD_DIGITS
    digits = []
    for _ in range(_RECORD_DIGITS):
        number, rest = divmod(number, len(_BASE62))
        digits.append(_BASE62[rest])
    id15 = key_prefix + _POD + "0" + "".join(reversed(digits))
    return id15 + salesforce_checksum(id15)


def pipedrive_id(kind: str, canonical_id: str) -> int:
    """A Pipedrive integer id for canonical_id as an entity of `kind` (deal, person, ...)."""
    match = _NUMERIC_ID.match(canonical_id)
    if match:
        return int(match.group(1))
    return pipedrive_hash_id(kind, canonical_id)


def pipedrive_hash_id(kind: str, canonical_id: str) -> int:
    """The hashed form of a Pipedrive id, never below `PIPEDRIVE_HASH_FLOOR`."""
    number = int.from_bytes(_digest("pipedrive", kind, canonical_id)[:8], "big")
    return PIPEDRIVE_HASH_FLOOR + number % _PIPEDRIVE_HASH_SPAN


def derived_uuid(*parts: str) -> str:
    """A version-4-shaped UUID string derived from parts (for vendor event and request ids)."""
    return str(uuid.UUID(bytes=_digest("uuid", *parts)[:16], version=4))


def derived_int(limit: int, *parts: str) -> int:
    """A number in [0, limit) derived from parts (deterministic jitter, schema ids, ...)."""
    return int.from_bytes(_digest("int", *parts)[:8], "big") % limit


def derived_token(length: int, *parts: str) -> str:
    """A base-62 token derived from parts (Avro schema ids and the like)."""
    number = int.from_bytes(_digest("token", *parts), "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(_BASE62))
        chars.append(_BASE62[rest])
    return "".join(chars)
