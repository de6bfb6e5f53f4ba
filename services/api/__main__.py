"""Run the api: `python -m services.api` (settings from the environment)."""

from __future__ import annotations

import uvicorn
from sqlalchemy.engine import make_url

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.db.engine import normalise_url
from shared.logging import configure_logging, get_logger


def main() -> None:
    settings = ApiSettings()
    configure_logging("api", level=settings.log_level, json=settings.log_json)
    get_logger(__name__).info(
        "api starting",
        host=settings.api_host,
        port=settings.api_port,
        database=make_url(normalise_url(settings.database_url)).render_as_string(
            hide_password=True
        ),
    )
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        log_level=settings.log_level.lower(),
    )


if __name__ == "__main__":
    main()
