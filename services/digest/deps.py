"""Dependencies of the digest routes, as typed aliases (tests swap them via overrides)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from sqlalchemy.engine import Engine

from services.digest.digests import DigestSender
from services.digest.settings import DigestSettings

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_settings(request: Request) -> DigestSettings:
    """The settings the app was built with."""
    settings: DigestSettings = request.app.state.settings
    return settings


def get_sender(request: Request) -> DigestSender:
    """The app's digest sender."""
    sender: DigestSender = request.app.state.sender
    return sender


def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    engine: Engine = request.app.state.engine
    return engine


SettingsDep = Annotated[DigestSettings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SenderDep = Annotated[DigestSender, Depends(get_sender)]


def require_api_key(
    settings: SettingsDep, supplied: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """401 unless `X-API-Key` matches API_KEY (constant-time comparison)."""
    expected = settings.api_key.get_secret_value().encode()
    if supplied is None or not hmac.compare_digest(supplied.encode(), expected):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong X-API-Key",
            headers={"WWW-Authenticate": "APIKey"},
        )
