"""The error pages in a real browser, with DEBUG off: each shows its friendly heading on
the site's layout, fits a phone, has nothing serious for axe, light and dark, and its
way back leads somewhere that works."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD, serious_accessibility_violations, sign_in_page, sign_in_with
from securityportal.tests.unreachable_database import portal_without_database

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ERRORS = "securityportal.tests.error_urls"
PHONE = {"width": 375, "height": 740}
# More query fields than Django parses (DATA_UPLOAD_MAX_NUMBER_FIELDS): the sign-in page
# reads its query for `next`, and the request is refused as malformed.
TOO_MANY_FIELDS = "&".join(f"field{number}=1" for number in range(1001))


def heading(page):
    return page.get_by_role("heading", level=1)


def test_the_404_page_fits_a_phone_and_leads_back_to_the_security_page(
    chromium, live_server, alice
):
    page = sign_in_page(chromium, live_server.url, "alice", viewport=PHONE)

    page.goto(f"{live_server.url}/no/such/page/")

    expect(heading(page)).to_have_text("We can't find that page")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Back to your security settings").click()
    expect(page).to_have_url(f"{live_server.url}/settings/security/")


def test_the_404_page_follows_the_dark_scheme(chromium, live_server):
    page = chromium.new_context(color_scheme="dark").new_page()

    page.goto(f"{live_server.url}/no/such/page/")

    expect(heading(page)).to_have_text("We can't find that page")
    expect(page.locator("body")).to_have_css("background-color", "rgb(15, 18, 22)")


def test_opening_a_button_address_is_the_405_page_with_a_way_back(chromium, live_server, alice):
    page = sign_in_page(chromium, live_server.url, "alice")

    response = page.goto(f"{live_server.url}/settings/security/password/")

    assert response.status == 405
    expect(heading(page)).to_have_text("This page can't be opened this way")
    page.get_by_role("link", name="Back to your security settings").click()
    expect(page).to_have_url(f"{live_server.url}/settings/security/")


def test_a_sign_in_form_left_open_while_another_tab_signed_in_is_refused_kindly(
    chromium, live_server, alice
):
    context = chromium.new_context()
    stale = context.new_page()
    stale.goto(f"{live_server.url}/login/")
    # Another tab signs in: the CSRF token rotates, the first tab's form goes stale.
    sign_in_with(context.new_page(), live_server.url, "alice")

    stale.get_by_label("Username or e-mail").fill("alice")
    stale.get_by_label("Password", exact=True).fill(PASSWORD)
    stale.get_by_role("button", name="Sign in").click()

    expect(heading(stale)).to_have_text("This form has expired")
    expect(stale.get_by_text("Your page was open too long")).to_be_visible()
    stale.get_by_role("link", name="Reload the page").click()
    # Back to the sign-in page, which sends the now signed-in browser on.
    expect(stale).to_have_url(f"{live_server.url}/settings/security/")


@pytest.mark.urls(ERRORS)
def test_a_bug_is_the_500_page_with_a_way_back(chromium, live_server):
    page = chromium.new_context().new_page()

    response = page.goto(f"{live_server.url}/test-errors/broken/")

    assert response.status == 500
    expect(heading(page)).to_have_text("Something went wrong on our side")
    expect(page.locator(".card")).to_have_css("border-radius", "8px")
    page.get_by_role("link", name="Back to your security settings").click()
    expect(heading(page)).to_have_text("Sign in")


def test_signing_in_while_the_database_is_unreachable_is_the_503_page(chromium, tmp_path):
    with portal_without_database(tmp_path / "server.log") as host:
        page = chromium.new_context().new_page()
        page.goto(f"http://{host}/login/")
        page.get_by_label("Username or e-mail").fill("alice")
        page.get_by_label("Password", exact=True).fill(PASSWORD)

        with page.expect_response(f"http://{host}/login/") as answer:
            page.get_by_role("button", name="Sign in").click()

        assert answer.value.status == 503
        assert answer.value.headers["retry-after"] == "5"
        expect(heading(page)).to_have_text("Security Portal is briefly unavailable")
        # The way back needs no database: the security page sends a visitor to sign in.
        page.get_by_role("link", name="Back to your security settings").click()
        expect(heading(page)).to_have_text("Sign in")


def opening(path: str):
    return lambda page, base_url: page.goto(f"{base_url}{path}")


def posting_the_sign_in_form_without_its_token(page, base_url: str):
    page.goto(f"{base_url}/login/")
    page.locator("input[name=csrfmiddlewaretoken]").evaluate("input => input.remove()")
    with page.expect_response(f"{base_url}/login/") as answer:
        page.get_by_role("button", name="Sign in").click()
    return answer.value


# Each error page, how a browser reaches it and its heading.
ERROR_PAGES = {
    400: (opening(f"/login/?{TOO_MANY_FIELDS}"), "We couldn't understand that request"),
    403: (posting_the_sign_in_form_without_its_token, "This form has expired"),
    404: (opening("/no/such/page/"), "We can't find that page"),
    405: (opening("/test-errors/post-only/"), "This page can't be opened this way"),
    429: (opening("/test-errors/rate-limited/?retry_after=120"), "Too many requests"),
    500: (opening("/test-errors/broken/"), "Something went wrong on our side"),
    503: (opening("/test-errors/database-error/"), "Security Portal is briefly unavailable"),
}


@pytest.mark.urls(ERRORS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("status", list(ERROR_PAGES))
def test_every_error_page_fits_a_phone_passes_the_audit_and_offers_a_way_back(
    chromium, live_server, settings, status, scheme
):
    assert settings.DEBUG is False
    reach, title = ERROR_PAGES[status]
    # axe goes in as an inline script, which the portal's own CSP refuses.
    page = chromium.new_context(viewport=PHONE, color_scheme=scheme, bypass_csp=True).new_page()

    response = reach(page, live_server.url)

    assert response.status == status
    expect(heading(page)).to_have_text(title)
    expect(page.get_by_text(f"Error {status}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert serious_accessibility_violations(page) == []
    # The way back by keyboard alone.
    page.get_by_role(
        "link", name=re.compile("^(Back to your security settings|Reload the page)$")
    ).focus()
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Sign in")
