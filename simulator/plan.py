"""The org and each rep's hidden plan (effort curve, patterns, time off), fixed up front."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from simulator.calendar import OrgCalendar
from simulator.config import RoleRates, ScenarioConfig
from simulator.org import Account, Org, Person, Segment, Team

FIRST_NAMES = (
    "Ava Ben Cleo Dana Eli Fay Gus Hana Ivo Jade Kai Lena Milo Nia Omar Pia Quinn Rosa Sam Tara "
    "Uma Vic Wren Xavi Yara Zeke Anya Bo Cruz Dev Esme Finn Gia Hugo Iris Jon Kira Leo Maya Noel"
).split()
LAST_NAMES = (
    "Chen Okafor Ortiz Novak Ito Moreau Said Lind Patel Kowalski Silva Nakamura Haddad Berg "
    "Costa Dubois Fischer Garcia Hughes Ivanova Jensen Kim Larsen Mensah Nguyen Olsen Park Reyes"
).split()
TEAMS = (
    ("East", "America/New_York"),
    ("West", "America/Los_Angeles"),
    ("Central", "America/Chicago"),
    ("Mountain", "America/Denver"),
    ("UK", "Europe/London"),
    ("DACH", "Europe/Berlin"),
    ("ANZ", "Australia/Sydney"),
    ("Nordics", "Europe/Stockholm"),
)
COMPANY_WORDS = (
    "Acme Globex Initech Umbrella Hooli Stark Wayne Tyrell Soylent Cyberdyne Wonka Gringotts "
    "Oscorp Aperture Vandelay Pied Dunder Monarch Massive Virtucon Nakatomi Gekko Prestige Zorg"
).split()
COMPANY_SUFFIXES = ("Inc", "Labs", "Group", "Systems", "Health", "Logistics", "Foods", "Energy")
DOMAIN = "sim.salescoach.local"


@dataclass(frozen=True)
class Ramp:
    """A new hire's effort curve: `floor` at hire rising to 1 after `weeks` weeks."""

    weeks: float
    floor: float = 0.15


@dataclass(frozen=True)
class Disengagement:
    decay_from: date
    departs_on: date
    effort_floor: float


@dataclass
class RepPlan:
    """What the simulator knows about a rep that the product must infer."""

    person: Person
    rates: RoleRates
    base_effort: float
    team_ae_ids: tuple[str, ...] = ()
    accounts: list[Account] = field(default_factory=list)
    ramp: Ramp | None = None
    disengagement: Disengagement | None = None
    pto: tuple[date, date] | None = None  # inclusive
    heads_down: tuple[date, date] | None = None
    happy_ears: bool = False
    win_bias: float = 1.0  # multiplies every stage's conversion (goal behind / ahead)
    quota: float = 0.0  # AE: bookings per quarter; SDR: meetings booked per month
    departed: bool = False

    @property
    def rep_id(self) -> str:
        return self.person.rep_id

    @property
    def is_ae(self) -> bool:
        return self.person.role == "AE"


def _name(rng: random.Random, used: set[str]) -> str:
    """A name nobody in the org has yet (a middle initial once the plain pairs run low)."""
    for attempt in range(1000):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if attempt >= 20 else ""
        name = f"{first}{middle} {last}"
        if name not in used:
            used.add(name)
            return name
    raise ValueError("ran out of distinct names; the org is too large for the name lists")


def _email(name: str, index: int) -> str:
    return f"{name.lower().replace(' ', '.')}.{index}@{DOMAIN}"


def build_org(config: ScenarioConfig, rng: random.Random) -> tuple[Org, list[RepPlan]]:
    """Teams of `team_size` reps (SDRs first), each with a manager; accounts for every AE."""
    used: set[str] = set()
    team_count = max(1, math.ceil(config.reps / config.team_size))
    teams: list[Team] = []
    plans: list[RepPlan] = []
    for number in range(team_count):
        base, zone = TEAMS[number % len(TEAMS)]
        team_name = base if number < len(TEAMS) else f"{base} {number // len(TEAMS) + 1}"
        name = _name(rng, used)
        manager = Person(
            rep_id=f"mgr-{number + 1:03d}",
            name=name,
            email=_email(name, number + 1),
            role="manager",
            team=team_name,
            time_zone=zone,
            manager_id=None,
            hire_date=config.start - timedelta(days=rng.randint(400, 2000)),
            index=number,
        )
        teams.append(Team(team_name, manager, zone))
        size = min(config.team_size, config.reps - len(plans))
        sdrs = round(size * config.sdr_share)
        for slot in range(size):
            index = len(plans) + 1
            name = _name(rng, used)
            role = "SDR" if slot < sdrs else "AE"
            person = Person(
                rep_id=f"rep-{index:04d}",
                name=name,
                email=_email(name, index),
                role=role,
                team=team_name,
                time_zone=zone,
                manager_id=manager.rep_id,
                hire_date=config.start - timedelta(days=rng.randint(200, 1500)),
                index=index,
            )
            rates = config.sdr if role == "SDR" else config.ae
            effort = max(0.6, rng.gauss(1.0, config.effort_spread))
            plans.append(RepPlan(person=person, rates=rates, base_effort=effort))
    _link_teams(plans)
    accounts = _accounts(config, plans, rng)
    org = Org(teams=tuple(teams), reps=tuple(p.person for p in plans), accounts=tuple(accounts))
    return org, plans


def _link_teams(plans: list[RepPlan]) -> None:
    """SDRs book meetings for the AEs of their own team (or any AE if the team has none)."""
    all_aes = tuple(p.rep_id for p in plans if p.is_ae)
    for plan in plans:
        same_team = tuple(p.rep_id for p in plans if p.is_ae and p.person.team == plan.person.team)
        plan.team_ae_ids = same_team or all_aes


def _accounts(config: ScenarioConfig, plans: list[RepPlan], rng: random.Random) -> list[Account]:
    segments = list(config.segments)
    weights = [config.segments[s].share for s in segments]
    accounts: list[Account] = []
    contact_number = 0
    for plan in plans:
        if not plan.is_ae:
            continue
        for _ in range(config.accounts_per_ae):
            index = len(accounts) + 1
            contacts = rng.randint(2, 6)
            ids = tuple(f"con-{contact_number + n + 1:06d}" for n in range(contacts))
            contact_number += contacts
            segment: Segment = rng.choices(segments, weights)[0]
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)} {index}"
            account = Account(f"acc-{index:05d}", name, segment, plan.rep_id, ids, index)
            accounts.append(account)
            plan.accounts.append(account)
    return accounts


def org_calendar(config: ScenarioConfig) -> OrgCalendar:
    end = config.start + timedelta(weeks=config.weeks)
    holiday_week = None
    if config.patterns.holiday_week and config.weeks >= 4:
        week = round(config.weeks * 0.6)
        holiday_week = config.start + timedelta(weeks=week, days=-config.start.weekday())
    return OrgCalendar(config.start, end, holiday_week)
