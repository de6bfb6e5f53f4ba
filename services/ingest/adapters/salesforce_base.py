"""What both Salesforce adapters share: who may post, and the record states they diff against."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from services.ingest.adapters.base import AdapterBase, Item
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_store import (
    KeyLocks,
    Snapshot,
    SnapshotKey,
    SnapshotStore,
    attach_previous,
)


class SalesforceAdapterBase(AdapterBase):
    """The access check's settings, the snapshot store and the per-record locks.

    A subclass says which items carry a record state (`stateful`), under which key (`key`),
    and what state an item leaves (`snapshot`).
    """

    def __init__(self, access: SalesforceAccess, store: SnapshotStore) -> None:
        self.access = access
        self.store = store
        self.locks = KeyLocks()

    def stateful(self, item: Item) -> bool:
        raise NotImplementedError

    def key(self, item: Item) -> SnapshotKey:
        raise NotImplementedError

    def snapshot(self, item: Item) -> Snapshot | None:
        raise NotImplementedError

    async def enrich(self, items: Sequence[Item]) -> list[Item]:
        return await attach_previous(
            self.store, items, stateful=self.stateful, key=self.key, snapshot=self.snapshot
        )

    def exclusive(self, items: Sequence[Item]) -> AbstractAsyncContextManager[None]:
        return self.locks.hold(self.key(item) for item in items if self.stateful(item))

    async def start(self) -> None:
        if self.access.configured:  # nothing touches the database for a vendor not in use
            await self.store.start()

    async def stop(self) -> None:
        await self.store.stop()
