"""The org directory: teams, managers, reps, accounts and contacts (plain, frozen data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Segment(StrEnum):
    SMB = "smb"
    MID_MARKET = "mid_market"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class Person:
    """A manager or a rep, as the org directory knows them."""

    rep_id: str
    name: str
    email: str
    role: str  # "SDR", "AE" or "manager"
    team: str
    time_zone: str
    manager_id: str | None
    hire_date: date
    index: int  # position in the org, for stable derived ids (vendor user ids, colours, ...)


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    name: str
    segment: Segment
    owner_id: str  # the AE whose book it is in
    contact_ids: tuple[str, ...]
    index: int


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    manager: Person
    time_zone: str


@dataclass(frozen=True)
class Org:
    """Everything a vendor formatter or scorer may need to look up by id."""

    teams: tuple[Team, ...]
    reps: tuple[Person, ...]  # SDRs and AEs, in org order
    accounts: tuple[Account, ...]

    @property
    def managers(self) -> tuple[Person, ...]:
        return tuple(team.manager for team in self.teams)

    @property
    def people(self) -> tuple[Person, ...]:
        """Managers first, then reps: the order in which the directory is published."""
        return (*self.managers, *self.reps)

    def person(self, rep_id: str) -> Person:
        return self._people_by_id()[rep_id]

    def account(self, account_id: str) -> Account:
        return self._accounts_by_id()[account_id]

    def _people_by_id(self) -> dict[str, Person]:
        cached: dict[str, Person] | None = self.__dict__.get("_people_cache")
        if cached is None:
            cached = {p.rep_id: p for p in self.people}
            object.__setattr__(self, "_people_cache", cached)
        return cached

    def _accounts_by_id(self) -> dict[str, Account]:
        cached: dict[str, Account] | None = self.__dict__.get("_accounts_cache")
        if cached is None:
            cached = {a.account_id: a for a in self.accounts}
            object.__setattr__(self, "_accounts_cache", cached)
        return cached
