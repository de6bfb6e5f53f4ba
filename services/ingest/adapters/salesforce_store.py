"""Where the Salesforce adapters keep the last state seen of each record.

Outbound Messages carry a record's state, not what changed, so each is diffed against the
previous one; CDC updates carry only the changed fields, so the rest (a meeting's kind, an
opportunity's owner) and the `from_*` values come from the last state too. A snapshot is
keyed by (channel, organisation, 15-character record id) and replaced only by a newer
version, so a late or repeated delivery never rolls a record back.

`SnapshotStore` is the interface; `InMemorySnapshotStore` serves the unit tests and
`SqlSnapshotStore` the service (table `salesforce_snapshot`, SQLite or PostgreSQL at
DATABASE_URL). A store that cannot answer raises `Unavailable`, which the webhook flow turns
into 503 + Retry-After.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from services.ingest.adapters.base import Item, Unavailable
from shared.db.engine import make_engine, normalise_url
from shared.db.migrate import upgrade
from shared.db.models import SalesforceSnapshot
from shared.logging import get_logger

log = get_logger(__name__)

SnapshotKey = tuple[str, str, str]  # (channel, organisation id[:15], record id[:15])
PREVIOUS = "previous"  # the item key `attach_previous` fills: {"version", "fields"} or None


@dataclass(frozen=True)
class Snapshot:
    """One record's state as of `version` (see salesforce_fields.version); a loaded one
    carries its ids in their stored (15-character) form."""

    channel: str
    organization_id: str
    record_id: str
    version: str
    modified_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> SnapshotKey:
        return snapshot_key(self.channel, self.organization_id, self.record_id)


def snapshot_key(channel: str, organization_id: str, record_id: str) -> SnapshotKey:
    """The store key of a record: ids in their case-sensitive 15-character form."""
    return (channel, organization_id[:15], record_id[:15])


def newest(snapshots: Iterable[Snapshot]) -> dict[SnapshotKey, Snapshot]:
    """The newest snapshot of each record among `snapshots` (the first of equal versions)."""
    latest: dict[SnapshotKey, Snapshot] = {}
    for snapshot in snapshots:
        known = latest.get(snapshot.key)
        if known is None or snapshot.version > known.version:
            latest[snapshot.key] = snapshot
    return latest


class SnapshotStore(Protocol):
    """The last state seen of each record."""

    async def start(self) -> None:
        """Called when the app starts; must not fail when the database is down."""
        ...

    async def stop(self) -> None:
        """Called when the app stops."""
        ...

    async def load(self, keys: Sequence[SnapshotKey]) -> dict[SnapshotKey, Snapshot]:
        """The stored snapshots of `keys` (absent: never seen); raises `Unavailable`."""
        ...

    async def save(self, snapshots: Sequence[Snapshot]) -> None:
        """Store each snapshot unless a newer (or equal) version is stored; raises `Unavailable`."""
        ...


class InMemorySnapshotStore:
    """A store in a dict; `down` makes every call raise `Unavailable`."""

    def __init__(self) -> None:
        self.snapshots: dict[SnapshotKey, Snapshot] = {}
        self.down = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def load(self, keys: Sequence[SnapshotKey]) -> dict[SnapshotKey, Snapshot]:
        self._check()
        return {key: self.snapshots[key] for key in keys if key in self.snapshots}

    async def save(self, snapshots: Sequence[Snapshot]) -> None:
        self._check()
        stored = self.snapshots.values()
        self.snapshots.update(newest([*stored, *snapshots]))

    def _check(self) -> None:
        if self.down:
            raise Unavailable("snapshot store is down")


class SqlSnapshotStore:
    """Snapshots in the `salesforce_snapshot` table of `database_url`.

    Nothing touches the database before `start` (an unconfigured vendor never does), and a
    database that is down at start is retried on first use: the schema is brought up to date
    with the project's migrations (`shared.db.migrate`) once it answers.
    """

    def __init__(self, database_url: str, *, connect_timeout_seconds: int = 5) -> None:
        self._url = normalise_url(database_url)
        self._connect_timeout = connect_timeout_seconds
        self._engine: Engine | None = None
        self._migrated = False
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        try:
            await self._ready()
        except Unavailable as exc:
            log.warning(
                "salesforce snapshot store not ready; retrying on first use", error=str(exc)
            )

    async def stop(self) -> None:
        if self._engine is not None:
            await asyncio.to_thread(self._engine.dispose)
            self._engine = None
            self._migrated = False

    async def load(self, keys: Sequence[SnapshotKey]) -> dict[SnapshotKey, Snapshot]:
        if not keys:
            return {}
        engine = await self._ready()
        found: dict[SnapshotKey, Snapshot] = await self._run(_load, engine, list(keys))
        return found

    async def save(self, snapshots: Sequence[Snapshot]) -> None:
        if not snapshots:
            return
        engine = await self._ready()
        await self._run(_save, engine, list(newest(snapshots).values()))

    async def _ready(self) -> Engine:
        async with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
            if not self._migrated:
                await self._run(upgrade, self._engine)
                self._migrated = True
            return self._engine

    def _make_engine(self) -> Engine:
        if make_url(self._url).get_backend_name() == "postgresql":
            return make_engine(self._url, connect_args={"connect_timeout": self._connect_timeout})
        return make_engine(self._url)

    @staticmethod
    async def _run(function: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(function, *args)
        except (SQLAlchemyError, OSError) as exc:
            # The message of a driver error may hold the URL; its type is enough to act on.
            raise Unavailable(f"snapshot store: {type(exc).__name__}") from exc


def _load(engine: Engine, keys: list[SnapshotKey]) -> dict[SnapshotKey, Snapshot]:
    table = SalesforceSnapshot.__table__  # type: ignore[attr-defined]
    groups: dict[tuple[str, str], list[str]] = {}
    for channel, organization_id, record_id in keys:
        groups.setdefault((channel, organization_id), []).append(record_id)
    found: dict[SnapshotKey, Snapshot] = {}
    with engine.connect() as connection:
        for (channel, organization_id), record_ids in groups.items():
            query = select(table).where(
                table.c.channel == channel,
                table.c.organization_id == organization_id,
                table.c.record_id.in_(sorted(set(record_ids))),
            )
            for row in connection.execute(query).mappings():
                snapshot = Snapshot(
                    channel=row["channel"],
                    organization_id=row["organization_id"],
                    record_id=row["record_id"],
                    version=row["version"],
                    modified_at=row["modified_at"],
                    fields=dict(row["fields"]),
                )
                found[snapshot.key] = snapshot
    return found


def _save(engine: Engine, snapshots: list[Snapshot]) -> None:
    table = SalesforceSnapshot.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with engine.begin() as connection:
        for snapshot in snapshots:
            channel, organization_id, record_id = snapshot.key
            statement = insert(table).values(
                channel=channel,
                organization_id=organization_id,
                record_id=record_id,
                version=snapshot.version,
                fields=snapshot.fields,
                modified_at=snapshot.modified_at,
            )
            # One statement decides "only if newer", so concurrent requests cannot roll back.
            statement = statement.on_conflict_do_update(
                index_elements=[table.c.channel, table.c.organization_id, table.c.record_id],
                set_={
                    "version": statement.excluded.version,
                    "fields": statement.excluded.fields,
                    "modified_at": statement.excluded.modified_at,
                },
                where=table.c.version < statement.excluded.version,
            )
            connection.execute(statement)


async def attach_previous(
    store: SnapshotStore,
    items: Sequence[Item],
    *,
    stateful: Callable[[Item], bool],
    key: Callable[[Item], SnapshotKey],
    snapshot: Callable[[Item], Snapshot | None],
) -> list[Item]:
    """Copies of `items`, each stateful one with the state before it under `PREVIOUS`.

    The state comes from the store, or from an earlier item of the same request for the same
    record when that one is newer. An item that already carries `PREVIOUS` (one replayed
    from the dead-letter topic) keeps it, so it maps to the events it would have at first.
    """
    items = [dict(item) for item in items]
    pending = [item for item in items if stateful(item) and PREVIOUS not in item]
    if not pending:
        return items
    latest = await store.load(sorted({key(item) for item in pending}))
    for item in pending:
        known = latest.get(key(item))
        item[PREVIOUS] = {"version": known.version, "fields": dict(known.fields)} if known else None
        state = snapshot(item)
        if state is not None and (known is None or state.version > known.version):
            latest[key(item)] = state
    return items


class KeyLocks:
    """One asyncio lock per record key, held from reading a record's state to saving it.

    Two requests about the same record at once would both diff against the state before
    either of them and emit the first one's changes twice, under different ids. The locks
    serialise them within this process; several ingest workers would need row locks.
    """

    def __init__(self) -> None:
        self._locks: dict[SnapshotKey, asyncio.Lock] = {}
        self._holders: dict[SnapshotKey, int] = {}

    @asynccontextmanager
    async def hold(self, keys: Iterable[SnapshotKey]) -> AsyncIterator[None]:
        ordered = sorted(set(keys))  # one order for every request: no deadlock
        for key in ordered:
            self._holders[key] = self._holders.get(key, 0) + 1
        acquired: list[asyncio.Lock] = []
        try:
            for key in ordered:
                lock = self._locks.setdefault(key, asyncio.Lock())
                await lock.acquire()
                acquired.append(lock)
            yield
        finally:
            for lock in acquired:
                lock.release()
            for key in ordered:
                self._holders[key] -= 1
                if not self._holders[key]:
                    del self._holders[key], self._locks[key]
