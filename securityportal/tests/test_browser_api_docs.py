"""The API's documentation pages in a real browser: they render, and no request they
make leaves the machine (no CDN, no web fonts; ReDoc's footer logo, hard-wired to its
maker's CDN, is stopped by the page's Content-Security-Policy before it is sent)."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("path", "ready"),
    [("/api/docs/", ".swagger-ui .info .title"), ("/api/redoc/", ".redoc-wrap")],
)
def test_the_api_documentation_renders_with_no_request_leaving_the_machine(
    chromium, live_server, path, ready
):
    here = urlsplit(live_server.url).netloc
    page = chromium.new_context().new_page()
    sent, blocked = [], []
    page.on("requestfinished", lambda request: sent.append(urlsplit(request.url)))
    page.on(
        "requestfailed",
        lambda request: blocked.append((urlsplit(request.url).netloc, request.failure)),
    )

    page.goto(f"{live_server.url}{path}")

    expect(page.locator(ready).first).to_be_visible()
    expect(page.get_by_text("Security Portal API").first).to_be_visible()
    assert {url.netloc for url in sent if url.scheme in ("http", "https")} == {here}
    assert all(host == here or failure == "csp" for host, failure in blocked), blocked
