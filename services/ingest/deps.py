"""Typed dependency aliases of the ingest routes; tests swap them with dependency_overrides.

All `async def`: FastAPI runs plain `def` dependencies in a thread pool, four thread hops a
request for what is an attribute read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.ingest.mapping import MappingSource
from services.ingest.producer import EventSink
from services.ingest.settings import IngestSettings
from shared.clock import Clock


@dataclass(frozen=True)
class IngestContext:
    """What the app was built with; kept on `app.state.ingest`."""

    settings: IngestSettings
    sink: EventSink
    clock: Clock
    mapping: MappingSource


async def get_context(request: Request) -> IngestContext:
    """The context of the app serving this request."""
    context: IngestContext = request.app.state.ingest
    return context


ContextDep = Annotated[IngestContext, Depends(get_context)]


async def get_settings(context: ContextDep) -> IngestSettings:
    """The process settings."""
    return context.settings


async def get_sink(context: ContextDep) -> EventSink:
    """Where accepted events are produced."""
    return context.sink


async def get_clock(context: ContextDep) -> Clock:
    """The wall clock for signature age and future-skew checks."""
    return context.clock


SettingsDep = Annotated[IngestSettings, Depends(get_settings)]
SinkDep = Annotated[EventSink, Depends(get_sink)]
ClockDep = Annotated[Clock, Depends(get_clock)]
