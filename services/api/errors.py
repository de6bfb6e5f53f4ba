"""Error bodies: 401/404 carry `{"detail": str}`; 422 uses FastAPI's validation shape."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """A single human-readable reason."""

    detail: str = Field(description="What went wrong, in words.")


class InvalidParam(ValueError):
    """A parameter that parsed but makes no sense (a bad cursor, start after end)."""

    def __init__(self, param: str, message: str, *, location: str = "query") -> None:
        super().__init__(message)
        self.param = param
        self.location = location
        self.message = message


async def invalid_param_handler(_request: Request, exc: Exception) -> JSONResponse:
    """422 in the same shape FastAPI uses, so clients parse one error format."""
    assert isinstance(exc, InvalidParam)
    error = {"loc": [exc.location, exc.param], "msg": exc.message, "type": "value_error"}
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": [error]}))


def not_found(description: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entry for a documented 404."""
    return {404: {"model": ErrorResponse, "description": description}}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorResponse,
        "description": "No API key, or the wrong one; the `WWW-Authenticate` header says how.",
    }
}
