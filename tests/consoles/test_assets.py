"""Issue 19: the API consoles load nothing from outside the gateway.

Swagger UI (`/v1/docs/`), ReDoc (`/v1/redoc/`) and GraphiQL (`GET /v1/graphql/` from a
browser) must work behind a proxy or offline, and must not run whatever a CDN serves that day:
every script, stylesheet and icon they name is a path on the gateway itself, and each of those
paths is served (by whitenoise, from the pinned sidecar packages) under a live gunicorn.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from django.test import Client

from tests.live import LiveServer

CONSOLES = {
    "swagger-ui": ("/v1/docs/", {}),
    "redoc": ("/v1/redoc/", {}),
    "graphiql": ("/v1/graphql/", {"Accept": "text/html"}),
}
# Attributes that make a browser fetch something as the page loads.
FETCHING = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")}


class Assets(HTMLParser):
    """Every URL the page makes the browser fetch, as written in the page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if (tag, name) in FETCHING and value:
                self.urls.append(value)


def assets_of(html: str) -> list[str]:
    parser = Assets()
    parser.feed(html)
    return parser.urls


def page(path: str, headers: dict[str, str]) -> str:
    response = Client().get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def csp_of(path: str, headers: dict[str, str]) -> dict[str, list[str]]:
    response = Client().get(path, headers=headers)
    policy = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("console", CONSOLES)
def test_every_asset_of_the_console_is_same_origin(db: None, console: str) -> None:
    path, headers = CONSOLES[console]
    html = page(path, headers)
    urls = assets_of(html)
    assert any(url.endswith(".js") for url in urls), urls  # the page does name its bundles
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{console} loads {url} from elsewhere"
        assert url.startswith("/"), url
    # Nor does any inline script or style reach out (fonts, validator badges, CDNs).
    for outside in ("https://", "http://", "//cdn", "fonts.googleapis", "unpkg", "jsdelivr"):
        assert outside not in html, f"{console} mentions {outside}"


@pytest.mark.parametrize("console", CONSOLES)
def test_the_browser_is_held_to_the_gateway_by_a_content_security_policy(
    db: None, console: str
) -> None:
    """What a bundle itself fetches (ReDoc's vendor logo) is refused before it leaves."""
    path, headers = CONSOLES[console]
    policy = csp_of(path, headers)
    assert policy["default-src"] == ["'self'"], policy
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src"):
        hosts = [s for s in policy[directive] if not s.startswith("'") and s not in ("data:",)]
        assert hosts == [], (directive, hosts)
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_asset_list_catches_a_cdn() -> None:
    """The parser sees what graphene-django's stock GraphiQL page would load."""
    stock = '<link href="https://cdn.jsdelivr.net/npm/graphiql@2.4.7/graphiql.min.css" />'
    assert urlsplit(assets_of(stock)[0]).netloc == "cdn.jsdelivr.net"


@pytest.mark.live
@pytest.mark.parametrize("console", CONSOLES)
def test_every_asset_is_served_by_the_live_server(
    gunicorn_server: LiveServer, console: str
) -> None:
    path, headers = CONSOLES[console]
    html = requests.get(f"{gunicorn_server.url}{path}", headers=headers, timeout=10)
    assert html.status_code == 200
    for url in assets_of(html.text):
        asset = requests.get(urljoin(gunicorn_server.url, url), timeout=10)
        assert asset.status_code == 200, (url, asset.status_code)
        kind = asset.headers["Content-Type"]
        if url.endswith(".js"):
            assert "javascript" in kind, (url, kind)
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
