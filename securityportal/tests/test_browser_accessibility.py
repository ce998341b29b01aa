"""Every page of the portal, signed in and out, light and dark, at 1280 and 375 pixels:
axe-core (package.json) finds nothing serious or critical, and no page scrolls sideways.

Pages are reached as a person reaches them: by following links, submitting forms and
opening dialogs, so the states in between (an error, an open dialog, the expiry banner)
are audited too. Each run writes its findings, page by page, to test-artifacts/."""

from collections.abc import Iterator
from datetime import timedelta
from itertools import chain

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from audit.models import LoginEvent
from conftest import (
    ARTIFACTS,
    SAFARI_IPHONE,
    serious_accessibility_violations,
    sign_in_page,
)
from sessions.models import Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(autouse=True)
def history(alice):
    """A month of alice's sign-ins, so the chart and the activity list have bars and rows."""
    now = timezone.now()
    LoginEvent.objects.bulk_create(
        LoginEvent(
            user=alice,
            account=alice.account,
            username="alice",
            channel="api" if day % 3 else "browser",
            success=day % 4 != 0,
            failure_reason="" if day % 4 else "bad_credentials",
            created_at=now - timedelta(days=day, hours=day % 5),
        )
        for day in range(0, 30, 2)
    )


@pytest.fixture(autouse=True)
def pages_do_not_move_deadlines(settings):
    # Reloads within the hour are not written as activity, so the deadline set for
    # the expiry banner stays where the test put it.
    settings.SESSION_ACTIVITY_WRITE_SECONDS = 3600


def every_page(chromium, base_url: str, **options) -> Iterator[tuple[str, Page]]:
    """Each page and state of the portal in turn, with its name."""
    page = chromium.new_context(**options).new_page()
    page.goto(f"{base_url}/login/")
    yield "sign-in", page
    page.goto(f"{base_url}/login/?reason=session_expired")
    yield "sign-in after the session expired", page
    page.get_by_label("Username or e-mail").fill("alice")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    yield "sign-in with an error", page
    page.context.close()

    # A second device, so the sessions card has a row to sign out and its dialog.
    sign_in_page(chromium, base_url, "alice", user_agent=SAFARI_IPHONE).context.close()
    page = sign_in_page(chromium, base_url, "alice", **options)
    yield "security settings", page
    page.get_by_text("The numbers, day by day").click()
    yield "security settings, the chart's numbers shown", page
    page.get_by_role("link", name="Sign out all other sessions").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    yield "security settings, sign out others dialog", page
    page.keyboard.press("Escape")
    # A plain form post, as without JavaScript: the password page with its errors.
    page.get_by_label("Current password").fill("not my password")
    page.locator("form[action='/settings/security/password/']").evaluate("form => form.submit()")
    expect(page).to_have_url(f"{base_url}/settings/security/password/")
    yield "password change with errors", page
    page.goto(f"{base_url}/settings/security/activity/")
    yield "activity", page
    page.goto(f"{base_url}/settings/security/sessions/revoke-others/")
    yield "sign out others, confirmation", page
    page.goto(f"{base_url}/account/security/")
    yield "account security", page
    page.get_by_role("link", name="Sign out everyone, including me").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    yield "account security, sign out everyone dialog", page
    page.keyboard.press("Escape")
    page.goto(f"{base_url}/account/security/revoke-sessions/?scope=all")
    yield "sign out everyone, confirmation", page
    page.goto(f"{base_url}/logout/")
    yield "sign out, confirmation", page
    page.goto(f"{base_url}/no-such-page/")
    yield "not found", page
    # Two minutes before the idle limit: the expiry banner shows.
    Session.objects.filter(user__username="alice", revoked_at__isnull=True).update(
        idle_timeout=timedelta(minutes=10), last_seen_at=timezone.now() - timedelta(minutes=8)
    )
    page.goto(f"{base_url}/settings/security/")
    expect(page.locator("#session-banner")).to_be_visible()
    yield "security settings with the expiry banner", page
    page.goto(f"{base_url}/admin/")
    expect(page.locator("#session-banner")).to_be_visible()
    yield "admin with the expiry banner", page
    page.context.close()

    page = sign_in_page(chromium, base_url, "bob", **options)
    page.goto(f"{base_url}/account/security/")
    yield "account security, refused to a member", page
    page.context.close()


def reauth_page(chromium, base_url: str, **options) -> Iterator[tuple[str, Page]]:
    page = sign_in_page(chromium, base_url, "alice", **options)
    page.goto(f"{base_url}/account/security/")
    page.locator("form[data-policy-form]").evaluate("form => form.submit()")
    expect(page.get_by_label("Your password")).to_be_visible()
    yield "password asked again", page
    page.context.close()


def api_docs(chromium, base_url: str, **options) -> Iterator[tuple[str, Page]]:
    """Swagger UI and ReDoc: the vendors' markup under our page and stylesheet."""
    page = chromium.new_context(**options).new_page()
    page.goto(f"{base_url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock-summary").first).to_be_visible()
    yield "API docs (Swagger UI)", page
    page.goto(f"{base_url}/api/redoc/")
    expect(page.locator(".redoc-wrap [id^='operation/']").first).to_be_visible()
    yield "API docs (ReDoc)", page
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_page_has_a_serious_accessibility_violation_or_scrolls_sideways(
    chromium, live_server, settings, bob, scheme, width
):
    # Any POST from the owner page asks for the password again.
    settings.REAUTH_MINUTES = 0
    viewport = WIDTHS[width]
    # axe goes in as an inline script, which the portal's own CSP refuses.
    options = {"color_scheme": scheme, "viewport": viewport, "bypass_csp": True}
    found: dict[str, list[str]] = {}
    seen = []
    # One page at a time: each is audited before the next is reached.
    for name, page in chain(
        every_page(chromium, live_server.url, **options),
        reauth_page(chromium, live_server.url, **options),
        api_docs(chromium, live_server.url, **options),
    ):
        seen.append(name)
        problems = serious_accessibility_violations(page)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > viewport["width"]:
            problems.append(f"scrolls sideways: {scroll_width}px wide")
        if problems:
            found[name] = problems

    ARTIFACTS.mkdir(exist_ok=True)
    report = ARTIFACTS / f"accessibility-{width}-{scheme}.txt"
    report.write_text(
        "".join(f"{name}: {len(found.get(name, []))}\n" for name in seen)
        + "".join(f"\n{name}\n  " + "\n  ".join(problems) for name, problems in found.items())
    )
    assert len(seen) == 20
    assert found == {}


def test_the_audit_finds_an_input_without_a_label(chromium, live_server):
    # The check that a zero above is a finding and not a blind spot.
    page = chromium.new_context(bypass_csp=True).new_page()
    page.goto(f"{live_server.url}/login/")
    page.locator("label[for=id_username]").evaluate("label => label.remove()")

    problems = serious_accessibility_violations(page)

    assert any(problem.startswith("label (critical)") for problem in problems), problems


# Every control a pointer can reach, Tab reaches too: one stop per radio group (the
# arrow keys move within it), none inside a closed dialog or a disabled control.
MARK_CONTROLS = """() => {
  const controls = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary'
  )].filter(control => control.checkVisibility() && !control.disabled);
  return controls.map((control, index) => {
    const text = (control.textContent || control.name).trim();
    const stop = control.type === 'radio' ? `radio group ${control.name}` :
      `${index}: ${control.tagName.toLowerCase()} "${text}"`;
    control.dataset.stop = stop;
    return stop;
  });
}"""


def tab_stops(page: Page, limit: int = 100) -> set[str]:
    """What Tab reaches, from the top of the page until focus comes round again."""
    page.locator("body").focus()
    reached: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate("document.activeElement.dataset.stop || null")
        if reached and stop == reached[0]:
            break
        reached.append(stop)
    return set(reached) - {None}


@pytest.mark.parametrize("path", ["/settings/security/", "/account/security/"])
def test_every_control_is_reached_by_the_keyboard_alone(chromium, live_server, path):
    sign_in_page(chromium, live_server.url, "alice", user_agent=SAFARI_IPHONE).context.close()
    page = sign_in_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}{path}")

    controls = set(page.evaluate(MARK_CONTROLS))

    assert len(controls) > 5
    assert tab_stops(page) == controls


FOCUS_BEHIND_THE_DIALOG = """() => {
  const focused = document.activeElement;
  const dialog = document.querySelector('dialog[open]');
  const inside = focused === document.body || dialog.contains(focused);
  return inside ? null : focused.outerHTML.slice(0, 80);
}"""


def test_a_dialog_keeps_the_keyboard_inside_and_gives_focus_back_to_its_opener(
    chromium, live_server
):
    page = sign_in_page(chromium, live_server.url, "alice")
    page.goto(f"{live_server.url}/account/security/")
    opener = page.get_by_role("link", name="Sign out everyone, including me")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Sign out everyone, including you?")
    expect(dialog).to_be_visible()

    # Past the dialog's last control Tab goes to the browser's own controls (the body,
    # to the page) and back to the dialog: never to the page behind it.
    behind = []
    for _ in range(6):
        page.keyboard.press("Tab")
        behind.append(page.evaluate(FOCUS_BEHIND_THE_DIALOG))
    page.keyboard.press("Escape")

    assert behind == [None] * 6
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
