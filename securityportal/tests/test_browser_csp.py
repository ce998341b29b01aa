"""The strict Content-Security-Policy in a real browser: the security pages, htmx,
the dialogs and the expiry banner's script all work with nothing refused (no inline
script or style, no eval), so the policy costs users nothing."""

import pytest
from playwright.sync_api import Page, expect

from conftest import FIREFOX_WINDOWS, SAFARI_IPHONE, sign_in_page
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any of the page's own scripts: every refusal the browser reports.
LISTEN_FOR_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def watched_page(chromium, base_url: str, username: str, **options) -> tuple[Page, list[str]]:
    """A signed-in page whose CSP refusals, as events and as console errors, are kept."""
    page = sign_in_page(chromium, base_url, username, **options)
    console = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    return page, console


def assert_nothing_refused(page: Page, console: list[str]) -> None:
    assert page.evaluate("window.cspViolations") == []
    assert console == []


def test_the_security_page_revokes_through_htmx_and_opens_its_dialog_with_nothing_refused(
    chromium, live_server, alice
):
    sign_in_page(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE)
    sign_in_page(chromium, live_server.url, "alice", user_agent=FIREFOX_WINDOWS)
    page, console = watched_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/settings/security/")
    assert page.evaluate("window.htmx.config.includeIndicatorStyles") is False
    page.evaluate("window.stillThisPage = true")

    rows = page.locator("#session-list .session-row")
    rows.filter(has_text="iPhone").get_by_role("button", name="Sign out").click()
    expect(rows).to_have_count(2)
    assert page.evaluate("window.stillThisPage") is True  # htmx swapped, no reload
    assert Session.objects.filter(revoked_reason="user").count() == 1

    page.get_by_role("link", name="Sign out all other sessions").click()
    dialog = page.get_by_role("dialog", name="Sign out all other sessions?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    assert_nothing_refused(page, console)


def test_the_account_security_page_opens_its_dialogs_with_nothing_refused(
    chromium, live_server, alice, bob
):
    sign_in_page(chromium, live_server.url, "bob")
    page, console = watched_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/security/")

    for opener in ("Sign out everyone except me", "Sign out everyone, including me"):
        page.get_by_role("link", name=opener).click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()

    assert_nothing_refused(page, console)


@pytest.mark.parametrize(
    ("path", "ready"),
    [("/api/docs/", ".swagger-ui .info .title"), ("/api/redoc/", ".redoc-wrap")],
)
def test_the_api_documentation_renders_under_its_policy(chromium, live_server, path, ready):
    page = chromium.new_context().new_page()
    page.add_init_script(LISTEN_FOR_VIOLATIONS)

    page.goto(f"{live_server.url}{path}")

    expect(page.locator(ready).first).to_be_visible()
    refused = page.evaluate("window.cspViolations")
    # ReDoc's footer logo, hard-wired to its maker's CDN, is the one thing refused.
    assert [entry for entry in refused if not entry.startswith("img-src https://")] == []
