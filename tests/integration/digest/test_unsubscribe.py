"""One-click unsubscribe on the real app and database (both backends)."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services.digest import directory
from services.digest.app import create_app
from services.digest.digests import digest_links, unsubscribe_token
from services.digest.settings import DigestSettings
from shared.db.models import DigestUnsubscribe
from tests.factories import make_rep, save


def settings(db_url: str) -> DigestSettings:
    return DigestSettings(
        slack_bot_token="xoxb-unsubscribe-test",
        api_key="k-unsubscribe-test",
        database_url=db_url,
        digest_public_url="http://digest.example:8004",
    )


def client(config: DigestSettings, engine: Engine) -> httpx.AsyncClient:
    app = create_app(config, engine=engine)  # routes only: the lifespan (consumer) is not run
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def opted_out(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [row.manager_id for row in session.exec(select(DigestUnsubscribe))]


async def test_one_click_unsubscribe_stops_the_digest(db_url: str, engine: Engine) -> None:
    save(
        engine,
        make_rep(rep_id="mgr-1", role="manager", manager_id=None),
        make_rep(rep_id="rep-1", manager_id="mgr-1"),
    )
    config = settings(db_url)
    url = "/v1/digests/mgr-1/unsubscribe"
    token = unsubscribe_token(config, "mgr-1")
    assert [m.manager_id for m in directory.managers(engine)] == ["mgr-1"]
    async with client(config, engine) as http:
        assert (await http.post(url, params={"token": "forged"})).status_code == 403
        assert (
            await http.post("/v1/digests/rep-1/unsubscribe", params={"token": token})
        ).status_code == 403
        page = await http.get(url, params={"token": token})
        assert page.status_code == 200 and 'method="post"' in page.text
        assert opted_out(engine) == []  # a prefetched GET unsubscribes nobody
        done = await http.post(url, params={"token": token})
        again = await http.post(url, params={"token": token})
    assert (done.status_code, again.status_code) == (200, 200)
    assert opted_out(engine) == ["mgr-1"]
    assert directory.managers(engine) == []


def test_the_emails_link_points_at_this_route() -> None:
    config = settings("sqlite://")
    parts = urlsplit(digest_links(config, "mgr 1").unsubscribe_url)
    assert (parts.scheme, parts.netloc) == ("http", "digest.example:8004")
    assert parts.path == "/v1/digests/mgr%201/unsubscribe"
    assert parts.query == f"token={unsubscribe_token(config, 'mgr 1')}"
