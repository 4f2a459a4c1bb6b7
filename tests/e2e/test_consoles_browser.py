"""Issue 19: the API consoles work in a browser that can reach nothing but the gateway.

Debian's Chromium (driven by Playwright, as in `test_admin_browser`) loads Swagger UI, ReDoc
and GraphiQL from a live gunicorn with every request that leaves loopback aborted, and records
each one it aborted: none may be attempted. Screenshots go to artifacts/consoles/.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from django.db import connections

from metadata.models import Metadata
from tests.conftest import (
    COUNTERPART_ONE,
    DEMO_PASSWORD,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
    SOME_TEST,
)
from tests.e2e.test_admin_browser import CHROMIUM, CHROMIUM_ARGS
from tests.live import LiveServer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "consoles"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}

try:
    from playwright.sync_api import Page, Route, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} (Debian's chromium) is missing"),
]


class Offline:
    """A browser context whose every request off loopback is aborted and remembered."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.blocked: list[str] = []
        self.console: list[str] = []
        self.context.route("**/*", self.guard)
        self.context.on("console", lambda message: self.console.append(message.text))

    def guard(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            self.blocked.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()


@pytest.fixture(scope="module", autouse=True)
def fresh_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[Offline]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see test_admin_browser.browser
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            guarded = Offline(chromium)
            yield guarded
            guarded.context.close()
        finally:
            connections.close_all()
            chromium.close()
    assert guarded.blocked == [], f"the consoles tried to leave loopback: {guarded.blocked}"
    # The pages' Content-Security-Policy refuses only what would leave the gateway (ReDoc's
    # vendor logo); never one of our own scripts, styles, inline code or connections.
    for message in guarded.console:
        if "Content Security Policy" in message:
            urls = re.findall(r"'(https?://[^']+)'", message)
            assert urls, message
            assert all(urlsplit(url).hostname not in LOOPBACK for url in urls), message


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def token(base: str, body: dict[str, str]) -> str:
    answer = requests.post(f"{base}/v1/auth/token", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_swagger_ui_lists_partner_metadata_and_tries_a_get_with_a_token(
    live_demo: LiveServer, offline: Offline
) -> None:
    base = live_demo.url
    partner = token(
        base,
        {
            "grant_type": "client_credentials",
            "client_id": PARTNER_CLIENT_ID,
            "client_secret": PARTNER_CLIENT_SECRET,
        },
    )
    stored = {"external_id": "id_6c8f1262fdbc", "nested": {"tier": 2}}
    put = requests.put(
        f"{base}/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        json={"metadata": stored},
        headers={"Authorization": f"Bearer {partner}"},
        timeout=10,
    )
    assert put.status_code == 200, put.text

    page = offline.context.new_page()
    page.goto(f"{base}/v1/docs/")
    retrieve = page.locator("#operations-counterparts-counterparts_partner_metadata_retrieve")
    expect(retrieve).to_be_visible(timeout=30_000)
    for operation in ("retrieve", "update", "partial_update", "lookup"):
        expect(
            page.locator(f"#operations-entities-entities_partner_metadata_{operation}")
        ).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/partner_metadata")).not_to_have_count(0)
    shot(page, "01-swagger-ui-operations")

    # Authorize with the token, as a partner would, then "Try it out" on the GET.
    page.click("button.authorize")
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input").first.fill(partner)
    dialog.locator("button.authorize", has_text="Authorize").click()
    expect(dialog.get_by_role("heading", name="Authorized")).to_be_visible()
    expect(dialog.locator("button", has_text="Logout")).to_be_visible()
    dialog.locator("button.btn-done", has_text="Close").click()

    retrieve.locator(".opblock-summary").click()
    retrieve.locator("button.try-out__btn").click()
    retrieve.locator('tr[data-param-name="identifier"] input').fill(COUNTERPART_ONE)
    retrieve.locator("button.execute").click()
    live = retrieve.locator(".live-responses-table .response .response-col_status")
    expect(live).to_have_text("200", timeout=30_000)
    body = retrieve.locator(".live-responses-table .response-col_description pre").first
    expect(body).to_contain_text("id_6c8f1262fdbc")
    expect(retrieve.locator("pre.curl")).to_contain_text("Authorization: Bearer")
    retrieve.scroll_into_view_if_needed()
    shot(page, "02-swagger-ui-try-it-out-200")


def test_redoc_renders_the_operations(live_demo: LiveServer, offline: Offline) -> None:
    page = offline.context.new_page()
    page.goto(f"{live_demo.url}/v1/redoc/")
    heading = page.locator("h2", has_text="Read the partner metadata of one counterpart")
    expect(heading).to_be_visible(timeout=30_000)
    expect(page.locator("h1", has_text="Metadata gateway")).to_be_visible()
    expect(page.get_by_text("Replace the partner metadata of one entity").first).to_be_attached()
    shot(page, "03-redoc")


def test_graphiql_runs_update_metadata_with_an_authorization_header(
    live_demo: LiveServer, offline: Offline
) -> None:
    base = live_demo.url
    access = token(base, {"grant_type": "password", "email": SOME_TEST, "password": DEMO_PASSWORD})
    value = json.dumps({"pet_type": "dog", "name": "fang"})
    mutation = (
        "mutation {\n"
        '  updateMetadata(input: {linkedObjectType: ACCOUNT, identifier: "A-154321",\n'
        f'    key: "pet", value: {json.dumps(value)}}}) {{\n'
        "    metadata { key value }\n"
        "  }\n"
        "}\n"
    )
    page = offline.context.new_page()
    page.goto(f"{base}/v1/graphql/#query={quote(mutation)}")
    expect(page.locator(".graphiql-container")).to_be_visible(timeout=30_000)

    # The headers editor, as a user fills it.
    page.get_by_role("button", name="Headers").click()
    headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:visible")
    headers_editor.click()
    page.keyboard.insert_text(json.dumps({"Authorization": f"JWT {access}"}))

    page.locator(".graphiql-execute-button").click()
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text('"updateMetadata"', timeout=30_000)
    expect(result).to_contain_text("pet_type")
    expect(result).not_to_contain_text("errors")
    shot(page, "04-graphiql-update-metadata")

    row = Metadata.objects.get(key="pet")
    assert row.value == {"pet_type": "dog", "name": "fang"}
