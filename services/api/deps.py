"""Typed dependencies of the api routes; tests swap them with `app.dependency_overrides`."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.api.settings import ApiSettings
from shared.clock import Clock
from shared.db.watermark import latest_event_time
from shared.settings import ClockMode

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKeyHeader",
    description="The API key (API_KEY of the api service) in the `X-API-Key` header.",
)
bearer_key = HTTPBearer(
    auto_error=False,
    scheme_name="BearerApiKey",
    description="The same API key as a bearer token: `Authorization: Bearer <key>`.",
)


def get_settings(request: Request) -> ApiSettings:
    """The settings `create_app` stored on the application."""
    return cast(ApiSettings, request.app.state.settings)


def get_engine(request: Request) -> Engine:
    """The database engine `create_app` stored on the application."""
    return cast(Engine, request.app.state.engine)


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def get_session(engine: EngineDep) -> Iterator[Session]:
    """One session per request; the api only reads, so nothing is committed."""
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_as_of(request: Request, settings: SettingsDep, session: SessionDep) -> datetime | None:
    """`now` for answers that depend on it: the app's clock when live; under the replay
    clock, the event-time watermark (the newest event time the database holds)."""
    if settings.clock_mode is ClockMode.REPLAY:
        return latest_event_time(session)
    clock: Clock = request.app.state.clock
    return clock.now()


AsOfDep = Annotated[datetime | None, Depends(get_as_of)]


def key_matches(presented: str | None, expected: SecretStr) -> bool:
    """Constant-time comparison; bytes because compare_digest refuses non-ASCII str."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())


def require_api_key(
    settings: SettingsDep,
    header_key: Annotated[str | None, Security(api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_key)],
) -> None:
    """Let the request through only with the API key in X-API-Key or as a bearer token."""
    presented = [header_key, bearer.credentials if bearer else None]
    if any(key_matches(key, settings.api_key) for key in presented):
        return
    challenge = 'Bearer realm="salescoach-api"'
    if any(presented):
        challenge += ', error="invalid_token"'
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or invalid API key: send it in X-API-Key or as Authorization: Bearer",
        headers={"WWW-Authenticate": challenge},
    )


# Router-level guard: `APIRouter(dependencies=[ApiKeyDep])`; override `require_api_key`.
ApiKeyDep: Any = Depends(require_api_key)
