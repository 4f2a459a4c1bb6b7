"""Issue 9 end to end: support staff in a real browser against the live gunicorn server.

Playwright's Python client drives Debian's headless Chromium (`/usr/bin/chromium`; Playwright's
own browser download is not used). A screenshot of every step goes to artifacts/screenshots/.
The test is skipped, saying why, only when Chromium or Playwright is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from metadata import services
from metadata.linkables import by_name
from metadata.models import Door, Metadata, MetadataChange, User
from metadata.principals import Principal
from metadata.selectors import find_target
from tests.conftest import COUNTERPART_ONE, DEMO_PASSWORD, PARTNER, SUPPORT, SUPPORT_LEAD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SIZE_ERROR = re.compile(r"metadata is \d+ bytes; the limit is 2000")
VALUE_BOX = 'textarea[name$="-value"]'

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} (Debian's chromium) is missing"),
]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM
    # calls are plain synchronous code, so Django's async-safety guard is told so. While that
    # loop runs, Django keeps a separate connection for this context: close it before leaving,
    # or PostgreSQL refuses to drop the test database ("accessed by other users").
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            connections.close_all()
            chromium.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/admin/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click('input[type="submit"]')
    expect(page.locator("#site-name")).to_be_visible()
    expect(page.locator("#content")).to_contain_text("Site administration")


def seed_counterpart_metadata() -> None:
    """What a partner stored through the REST door before support looks at it."""
    partner = User.objects.get(email=PARTNER)
    target = find_target(
        linkable=by_name("COUNTERPART"),
        identifier=COUNTERPART_ONE,
        principal=Principal.for_user(partner),
    )
    context = services.WriteContext(actor_id=partner.pk, door=Door.REST)
    services.replace_document(
        target=target,
        document={"external_id": "id_6c8f1262fdbc", "comment": ""},
        context=context,
    )


def value_box_of(page: Page, key: str) -> Any:
    row = page.locator("tr.has_original").filter(has=page.locator(f'input[value="{key}"]'))
    return row.locator(VALUE_BOX)


def test_support_staff_edit_and_review_metadata_in_a_browser(live_demo, browser) -> None:
    base = live_demo.url
    seed_counterpart_metadata()

    # Static files (the admin's CSS) come from whitenoise under gunicorn.
    lead_context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = lead_context.new_page()
    css = page.request.get(f"{base}/static/admin/css/base.css")
    assert css.status == 200, css.status
    assert "text/css" in css.headers["content-type"]

    # 1. support.lead logs in.
    log_in(page, base, SUPPORT_LEAD)
    header_colour = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
    assert header_colour not in ("", "rgba(0, 0, 0, 0)"), "the admin CSS did not load"
    shot(page, "01-lead-logged-in")

    # 2. ... finds the counterpart by its UUID.
    page.click('a[href="/admin/metadata/counterpart/"]')
    page.fill("#searchbar", COUNTERPART_ONE)
    page.press("#searchbar", "Enter")
    results = page.locator("#result_list tbody tr")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("Acme Supplies")
    shot(page, "02-lead-finds-counterpart-by-uuid")
    results.locator("a").first.click()
    expect(page.locator("h2", has_text="Metadata")).to_be_visible()
    expect(value_box_of(page, "external_id")).to_have_value('"id_6c8f1262fdbc"')
    shot(page, "03-lead-counterpart-page-with-metadata")

    # 3. ... tries an oversized value and sees the size error; nothing changes.
    audit_before = MetadataChange.objects.count()
    value_box_of(page, "external_id").fill(json.dumps("x" * 2100))
    page.click('input[name="_continue"]')
    error = page.locator(".errorlist")
    expect(error.first).to_be_visible()
    expect(page.locator("#content")).to_contain_text(SIZE_ERROR)
    shot(page, "04-lead-sees-size-error")
    assert Metadata.objects.get(key="external_id").value == "id_6c8f1262fdbc"
    assert MetadataChange.objects.count() == audit_before

    # 4. ... saves a valid value.
    value_box_of(page, "external_id").fill('{"id": "id_9f2a", "source": "support"}')
    page.click('input[name="_continue"]')
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("#content")).not_to_contain_text(SIZE_ERROR)
    shot(page, "05-lead-saved-valid-value")
    row = Metadata.objects.get(key="external_id")
    assert row.value == {"id": "id_9f2a", "source": "support"}

    # 5. ... and sees the change in the history.
    page.click("a.metadata-history")
    expect(page.locator("#content h1, #content h2").first).to_contain_text("History of COUNTERPART")
    newest = page.locator("#result_list tbody tr").first
    expect(newest).to_contain_text("external_id")
    expect(newest).to_contain_text("Admin")
    expect(newest).to_contain_text(SUPPORT_LEAD)
    expect(newest).to_contain_text("id_9f2a")
    expect(newest).to_contain_text("id_6c8f1262fdbc")
    shot(page, "06-lead-sees-history")
    change = MetadataChange.objects.order_by("-id").first()
    assert (change.door, change.actor.email) == ("admin", SUPPORT_LEAD)
    lead_context.close()

    # 6. support@example.com logs in and cannot edit.
    support_context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = support_context.new_page()
    log_in(page, base, SUPPORT)
    page.goto(f"{base}/admin/metadata/counterpart/{COUNTERPART_ONE}/change/")
    expect(page.locator("#content")).to_contain_text("id_9f2a")
    expect(page.locator("textarea")).to_have_count(0)
    expect(page.locator('input[name="_save"]')).to_have_count(0)
    shot(page, "07-support-counterpart-read-only")

    page.goto(f"{base}/admin/metadata/metadata/?q={COUNTERPART_ONE}")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("a.addlink")).to_have_count(0)
    expect(page.locator('input[name="_selected_action"]')).to_have_count(0)
    shot(page, "08-support-metadata-list-read-only")

    # A change posted anyway (with a valid CSRF token) is refused.
    csrf = next(c["value"] for c in support_context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        f"{base}/admin/metadata/metadata/{row.pk}/change/",
        form={"csrfmiddlewaretoken": csrf, "value": '"hacked"', "_save": "Save"},
        headers={"Referer": page.url},
    )
    assert refused.status == 403
    assert Metadata.objects.get(pk=row.pk).value == {"id": "id_9f2a", "source": "support"}
    support_context.close()

    names = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
    assert len(names) == 8, names
