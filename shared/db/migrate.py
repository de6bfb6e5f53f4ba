"""Bring a database to the latest schema: `python -m shared.db.migrate`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from shared.db.engine import make_engine
from shared.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]


def upgrade(engine: Engine) -> None:
    """Apply every pending migration to the database behind `engine`."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "shared/db/migrations"))
    config.attributes["configure_logging"] = False
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def main() -> None:
    settings = CommonSettings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")


if __name__ == "__main__":
    main()
