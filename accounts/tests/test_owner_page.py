"""/account/security/: the owner's session policy, who is signed in, signing everyone
out, and the password asked again before any of it (SPEC §4, §5, §7)."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.owners import preview_policy
from audit.models import AuditEvent
from conftest import (
    FIREFOX_WINDOWS,
    PASSWORD,
    SAFARI_IPHONE,
    api_login,
    bearer,
    browser_for,
)
from securityportal.client import ClientInfo
from sessions import signed_in
from sessions.lifecycle import open_session
from sessions.models import Session

pytestmark = pytest.mark.django_db

PAGE = "/account/security/"
REVOKE = "/account/security/revoke-sessions/"
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/account/security/"}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def policy(preset: str = "custom", idle: object = "", absolute: object = "", **extra: str):
    return {"preset": preset, "idle_minutes": idle, "absolute_minutes": absolute, **extra}


def policy_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="account.session_policy_update"))


def bulk_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="account.sessions_revoked_bulk"))


# Who may open it


def test_a_member_is_refused_with_a_page_that_says_why(bob):
    response = browser_for(bob).get(PAGE)

    assert response.status_code == 403
    assert "Only the owners of an account" in response.content.decode()


def test_a_member_cannot_post_a_policy_or_sign_everyone_out(alice, bob):
    member = browser_for(bob)
    alices = browser_for(alice)

    policy_response = member.post(PAGE, policy("strict"))
    revoke_response = member.post(REVOKE, {"scope": "all"})

    assert (policy_response.status_code, revoke_response.status_code) == (403, 403)
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None
    assert row_of(alices).revoked_at is None
    assert policy_events() == bulk_events() == []


def test_an_anonymous_visitor_is_sent_to_sign_in(db):
    response = Client().get(PAGE)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/account/security/"


def test_the_header_links_the_owner_page_for_owners_only(alice, bob):
    owners = browser_for(alice).get("/settings/security/").content.decode()
    members = browser_for(bob).get("/settings/security/").content.decode()

    assert 'href="/account/security/"' in owners
    assert 'href="/account/security/"' not in members


# The Policy card


def test_it_shows_the_policy_in_force_and_the_standard_preset(alice):
    response = browser_for(alice).get(PAGE)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<strong>60 minutes</strong> idle" in content
    assert response.context["policy_form"]["preset"].value() == "standard"


def test_the_strict_preset_is_saved_audited_and_confirmed(alice):
    owner = browser_for(alice)

    response = owner.post(PAGE, policy("strict"), follow=True)

    assert response.redirect_chain == [("/account/security/", 302)]
    assert "Saved. The new limits apply from the next sign-in." in response.content.decode()
    alice.account.refresh_from_db()
    assert (alice.account.session_idle_minutes, alice.account.session_absolute_minutes) == (
        15,
        480,
    )
    [event] = policy_events()
    assert event.actor == alice
    assert event.account == alice.account
    assert event.details["old"] == {"idle_minutes": None, "absolute_minutes": None}
    assert event.details["new"] == {"idle_minutes": 15, "absolute_minutes": 480}
    assert event.details["effective"] == {"idle_minutes": 15, "absolute_minutes": 480}


def test_the_standard_preset_clears_the_overrides(alice):
    alice.account.session_idle_minutes, alice.account.session_absolute_minutes = 15, 480
    alice.account.save()

    browser_for(alice).post(PAGE, policy("standard", idle=15, absolute=480))

    alice.account.refresh_from_db()
    assert (alice.account.session_idle_minutes, alice.account.session_absolute_minutes) == (
        None,
        None,
    )
    assert policy_events()[0].details["effective"] == {
        "idle_minutes": 60,
        "absolute_minutes": 10080,
    }


def test_saving_the_policy_as_shown_changes_nothing_and_writes_nothing(alice):
    # Only the idle limit is the account's own; the form shows the absolute one at
    # the system default, which it must keep following, not store as its own.
    alice.account.session_idle_minutes = 30
    alice.account.save()
    owner = browser_for(alice)
    shown = owner.get(PAGE).context["policy_form"]

    owner.post(
        PAGE,
        policy(
            shown["preset"].value(),
            idle=shown["idle_minutes"].value(),
            absolute=shown["absolute_minutes"].value(),
        ),
    )

    alice.account.refresh_from_db()
    assert (alice.account.session_idle_minutes, alice.account.session_absolute_minutes) == (
        30,
        None,
    )
    assert policy_events() == []


def test_without_javascript_a_preset_ignores_what_the_custom_inputs_hold(alice):
    # The custom inputs are disabled unless Custom is chosen, but without JavaScript
    # whatever they held is posted with the preset.
    owner = browser_for(alice)

    response = owner.post(PAGE, policy("strict", idle="abc", absolute="-5"))

    assert response.status_code == 302
    alice.account.refresh_from_db()
    assert (alice.account.session_idle_minutes, alice.account.session_absolute_minutes) == (
        15,
        480,
    )


@pytest.mark.parametrize(
    ("idle", "absolute", "field", "message"),
    [
        (4, "", "idle_minutes", "Choose an idle limit from 5 to 43200 minutes."),
        (43201, "", "idle_minutes", "Choose an idle limit from 5 to 43200 minutes."),
        ("", 14, "absolute_minutes", "Choose an absolute limit from 15 to 129600 minutes."),
        ("", 129601, "absolute_minutes", "Choose an absolute limit from 15 to 129600"),
        (43200, "", "idle_minutes", "cannot be longer than the absolute limit (10080 minutes)"),
        (120, 60, "idle_minutes", "cannot be longer than the absolute limit (60 minutes)"),
        ("", 30, "absolute_minutes", "The idle limit (60 minutes) cannot be longer"),
        ("ten", "", "idle_minutes", "Enter a whole number of minutes."),
        ("1.5", "", "idle_minutes", "Enter a whole number of minutes."),
    ],
)
def test_a_policy_the_rule_refuses_is_a_field_error_and_changes_nothing(
    alice, idle, absolute, field, message
):
    owner = browser_for(alice)

    plain = owner.post(PAGE, policy(idle=idle, absolute=absolute))
    htmx = owner.post(PAGE, policy(idle=idle, absolute=absolute), headers=HTMX)

    assert plain.status_code == htmx.status_code == 200
    assert message in plain.content.decode()
    assert message in htmx.content.decode()
    assert plain.context["policy_form"].has_error(field)
    assert "<html" not in htmx.content.decode()
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None
    assert alice.account.session_absolute_minutes is None
    assert policy_events() == []


@pytest.mark.parametrize(("idle", "absolute"), [("ten", 5), (2, "forever")])
def test_a_policy_with_two_mistakes_reports_both_at_once(alice, idle, absolute):
    response = browser_for(alice).post(PAGE, policy(idle=idle, absolute=absolute), headers=HTMX)

    form = response.context["policy_form"]
    assert form.has_error("idle_minutes")
    assert form.has_error("absolute_minutes")
    content = response.content.decode()
    assert content.count('aria-invalid="true"') == 2
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None
    assert policy_events() == []


def test_with_htmx_a_saved_policy_swaps_the_card_with_a_confirmation(alice):
    response = browser_for(alice).post(PAGE, policy(idle=30, absolute=600), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section class="card" id="policy-card"')
    assert "Saved. The new limits apply from the next sign-in." in content
    assert "<strong>30 minutes</strong> idle" in content


def test_a_new_policy_applies_at_the_next_sign_in(alice, bob):
    with time_machine.travel(START, tick=False) as clock:
        before = row_of(browser_for(bob))
        browser_for(alice).post(PAGE, policy(idle=30, absolute=600))
        clock.shift(timedelta(minutes=5))
        after = Session.objects.get(pk=api_login(bob)["session"]["id"])

    before.refresh_from_db()
    assert before.expire_date == before.created_at + timedelta(minutes=10080)
    assert after.expire_date == after.created_at + timedelta(minutes=600)
    assert after.idle_timeout == timedelta(minutes=30)


def test_apply_now_first_previews_then_ends_exactly_the_previewed_sessions(alice, bob, carol):
    with time_machine.travel(START, tick=False) as clock:
        phone = browser_for(bob, SAFARI_IPHONE)
        old_phone = row_of(phone)
        other_tenant = browser_for(carol)
        for _ in range(3):  # in use all along: only its age is past the new limit
            clock.shift(timedelta(minutes=55))
            phone.get("/settings/security/")
            other_tenant.get("/settings/security/")
        recent = row_of(browser_for(bob, FIREFOX_WINDOWS))
        owner = browser_for(alice)
        form = policy(idle=30, absolute=120, apply_now="on")
        expected = preview_policy(account=alice.account, idle_minutes=30, absolute_minutes=120)

        preview = owner.post(PAGE, form)
        assert f"will sign out {expected} session" in preview.content.decode()
        alice.account.refresh_from_db()
        assert alice.account.session_idle_minutes is None

        confirm = {**form, "confirmed": "on", "previewed": "30:120"}
        assert 'name="previewed" value="30:120"' in preview.content.decode()
        response = owner.post(PAGE, confirm, follow=True)

    assert expected == 1
    assert "Saved and applied to signed-in sessions: 1 session ended." in (
        response.content.decode()
    )
    old_phone.refresh_from_db()
    recent.refresh_from_db()
    assert old_phone.revoked_reason == "expired_absolute"
    assert recent.revoked_at is None
    assert recent.expire_date == recent.created_at + timedelta(minutes=120)
    assert row_of(other_tenant).revoked_at is None
    [event] = policy_events()
    assert event.details["applied_now"] is True
    assert event.details["sessions_ended"] == 1


# Who is signed in


def test_it_lists_the_accounts_signed_in_people_with_you_marked(alice, bob, carol):
    owner = browser_for(alice)
    browser_for(bob)
    browser_for(bob, SAFARI_IPHONE)
    browser_for(carol)

    content = owner.get(PAGE).content.decode()

    assert "2 people are signed in, with 3 sessions." in content
    assert "bob@acme.example" in content
    assert '<span class="badge badge-current">(you)</span>' in content
    assert "carol" not in content


def sign_in_members(account, count: int) -> None:
    """``count`` more members of ``account``, each with one live session."""
    for number in range(count):
        member = User.objects.create_user(
            username=f"member{number:03}",
            email=f"member{number:03}@acme.example",
            password=PASSWORD,
            account=account,
        )
        open_session(
            user=member, kind="api", client=ClientInfo(ip=None, user_agent=""), now=timezone.now()
        )


def test_a_crowded_account_shows_one_page_of_people_and_a_link_to_the_rest(alice, acme):
    owner = browser_for(alice)
    sign_in_members(acme, signed_in.PAGE_SIZE)

    content = owner.get(PAGE).content.decode()

    assert f"{signed_in.PAGE_SIZE + 1} people are signed in" in content
    assert content.count('class="person-row"') == signed_in.PAGE_SIZE
    # The owner signed in first, so is the least recently active: on the next page.
    assert '<span class="badge badge-current">(you)</span>' not in content
    assert 'href="/account/security/people/?after=' in content
    assert 'hx-get="/account/security/people/?after=' in content


def next_page_link(content: str) -> str:
    return re.search(r'href="(/account/security/people/\?after=[^"]+)"', content).group(1)


def test_show_more_with_htmx_answers_only_the_rest_of_the_rows(alice, acme):
    owner = browser_for(alice)
    sign_in_members(acme, signed_in.PAGE_SIZE)
    link = next_page_link(owner.get(PAGE).content.decode())

    response = owner.get(link, headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('class="person-row"') == 1
    assert '<span class="badge badge-current">(you)</span>' in content
    assert "<html" not in content
    assert "/account/security/people/?after=" not in content


def test_show_more_without_javascript_is_a_page_of_its_own(alice, acme):
    owner = browser_for(alice)
    sign_in_members(acme, signed_in.PAGE_SIZE)
    link = next_page_link(owner.get(PAGE).content.decode())

    response = owner.get(link)

    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" in content
    assert "Back to account security" in content
    assert content.count('class="person-row"') == 1


@pytest.mark.parametrize(
    "after", ["", "x", "1-zz", "\uff11\uff12-" + "a" * 32, "9" * 40 + "-" + "a" * 32]
)
def test_a_forged_cursor_is_refused_with_a_400(alice, after):
    response = browser_for(alice).get("/account/security/people/", {"after": after})

    assert response.status_code == 400


def test_a_member_cannot_read_the_people_pages(bob):
    response = browser_for(bob).get("/account/security/people/", {"after": "1-" + "a" * 32})

    assert response.status_code == 403


def test_past_the_count_cap_the_copy_gives_lower_bounds(alice, bob, monkeypatch):
    owner = browser_for(alice)
    browser_for(bob)
    browser_for(bob, SAFARI_IPHONE)
    monkeypatch.setattr(signed_in, "COUNT_CAP", 2)

    content = owner.get(PAGE).content.decode()

    assert "At least 2 people are signed in, with 2 or more sessions." in content
    assert "This ends 2 or more sessions in Acme" in content
    assert "Sign out everyone except me" in content


def test_past_the_count_cap_one_person_is_one_person(alice, monkeypatch):
    owner = browser_for(alice)
    browser_for(alice, SAFARI_IPHONE)
    browser_for(alice, FIREFOX_WINDOWS)
    monkeypatch.setattr(signed_in, "COUNT_CAP", 2)

    content = owner.get(PAGE).content.decode()

    assert "At least 1 person is signed in, with 2 or more sessions." in content


def test_sign_out_everyone_except_me_is_hidden_when_only_the_owner_is_signed_in(alice):
    content = browser_for(alice).get(PAGE).content.decode()

    assert "1 person is signed in, with 1 session." in content
    assert "Sign out everyone except me" not in content
    assert "Sign out everyone, including me" in content
    # Not "all 1 session".
    assert "This ends 1 session in Acme, yours on this device too." in content


def test_the_two_dialogs_say_what_each_scope_ends(alice, bob):
    owner = browser_for(alice)
    browser_for(bob)
    browser_for(bob, SAFARI_IPHONE)

    content = owner.get(PAGE).content.decode()

    assert "Sign out everyone except you?" in content
    assert "This ends 2 sessions in Acme" in content
    assert "Sign out everyone, including you?" in content
    assert "This ends all 3 sessions in Acme, yours on this device too." in content


@pytest.mark.parametrize(
    ("scope", "title"),
    [("others", "Sign out everyone except you?"), ("all", "Sign out everyone, including you?")],
)
def test_without_javascript_a_confirmation_page_asks_first(alice, bob, scope, title):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))

    response = owner.get(f"{REVOKE}?scope={scope}")

    assert response.status_code == 200
    assert title in response.content.decode()
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


# Signing everyone out


def test_sign_out_everyone_except_me_keeps_only_the_owners_session(alice, bob, carol):
    owner = browser_for(alice)
    alices_phone = row_of(browser_for(alice, SAFARI_IPHONE))
    bobs = row_of(browser_for(bob))
    bobs_api = api_login(bob)
    carols = row_of(browser_for(carol))

    response = owner.post(REVOKE, {"scope": "others"}, follow=True)

    assert response.redirect_chain == [("/account/security/", 302)]
    assert "Signed out 3 sessions. You are still signed in here." in response.content.decode()
    assert row_of(owner).revoked_at is None
    for row in (alices_phone, bobs):
        row.refresh_from_db()
        assert row.revoked_reason == "owner_bulk"
    assert bearer(bobs_api["access"]).get("/api/auth/me").status_code == 401
    carols.refresh_from_db()
    assert carols.revoked_at is None
    [event] = bulk_events()
    assert event.details == {"scope": "others", "count": 3}
    assert event.actor == alice


def test_sign_out_everyone_including_me_lands_the_owner_on_the_login_page(alice, bob):
    owner = browser_for(alice)
    browser_for(bob)

    response = owner.post(REVOKE, {"scope": "all"})

    assert response.status_code == 302
    assert response["Location"] == "/login/?reason=signed_out"
    assert not Session.objects.filter(revoked_at__isnull=True).exists()
    assert owner.get("/settings/security/").status_code == 302
    [event] = bulk_events()
    assert event.details == {"scope": "all", "count": 2}


def test_with_htmx_including_me_redirects_the_page_to_login(alice):
    response = browser_for(alice).post(REVOKE, {"scope": "all"}, headers=HTMX)

    assert response["HX-Redirect"] == "/login/?reason=signed_out"


# Sudo mode


def test_a_session_signed_in_20_minutes_ago_is_asked_for_the_password_first(alice, bob):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        bobs = row_of(browser_for(bob))
        clock.shift(timedelta(minutes=20))

        asked = owner.post(REVOKE, {"scope": "others"})
        bobs.refresh_from_db()
        assert bobs.revoked_at is None
        assert "Confirm it's you" in asked.content.decode()
        assert 'name="scope" value="others"' in asked.content.decode()

        done = owner.post(REVOKE, {"scope": "others", "reauth_password": PASSWORD})

    assert done.status_code == 302
    bobs.refresh_from_db()
    assert bobs.revoked_reason == "owner_bulk"
    assert AuditEvent.objects.filter(action="session.reauthenticated", actor=alice).count() == 1


def test_a_wrong_password_in_sudo_mode_changes_nothing_and_counts_toward_the_lockout(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))
        for _ in range(5):
            response = owner.post(PAGE, policy("strict", reauth_password="a wrong guess"))
            assert "That is not your password." in response.content.decode()

        locked = owner.post(PAGE, policy("strict", reauth_password=PASSWORD))

    assert "Too many failed attempts. Try again in 15 minutes." in locked.content.decode()
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None
    assert policy_events() == []
    failures = AuditEvent.objects.filter(action="password.confirm_failed", actor=alice)
    assert [
        (row.details["purpose"], row.details["reason"]) for row in failures.order_by("id")
    ] == ([("reauthentication", "bad_credentials")] * 5 + [("reauthentication", "locked_out")])


def test_re_authenticating_rotates_the_session_key(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        old_key = owner.cookies[settings.SESSION_COOKIE_NAME].value
        clock.shift(timedelta(minutes=20))

        owner.post(PAGE, policy("strict", reauth_password=PASSWORD))

        stolen = Client()
        stolen.cookies[settings.SESSION_COOKIE_NAME] = old_key
        assert stolen.get("/settings/security/").status_code == 302
        assert owner.get(PAGE).status_code == 200
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes == 15


def test_with_htmx_the_password_prompt_is_a_fragment_that_carries_the_action(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        response = owner.post(PAGE, policy("strict"), headers=HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<section class="card card-narrow" id="reauth"')
    assert 'name="preset" value="strict"' in content
    assert 'hx-post="/account/security/"' in content


# Losing access


def test_deactivating_a_user_signs_them_out_everywhere_at_once(alice, bob):
    bobs_browser = row_of(browser_for(bob))
    bobs_api = api_login(bob)

    bob.is_active = False
    bob.save()

    bobs_browser.refresh_from_db()
    assert bobs_browser.revoked_reason == "admin"
    assert Session.objects.filter(user=bob, revoked_at__isnull=True).count() == 0
    assert "bob@acme.example" not in browser_for(alice).get(PAGE).content.decode()
    assert bearer(bobs_api["access"]).get("/api/auth/me").status_code == 401
    [event] = AuditEvent.objects.filter(action="session.revoked", user=bob)
    assert event.details == {"reason": "admin", "scope": "deactivated", "count": 2}


def test_a_user_moved_to_another_account_leaves_no_session_in_the_old_one(
    alice, bob, carol, globex
):
    bobs = row_of(browser_for(bob))

    bob.account = globex
    bob.save()

    bobs.refresh_from_db()
    assert bobs.revoked_reason == "admin"
    assert "bob@acme.example" not in browser_for(alice).get(PAGE).content.decode()
    [event] = AuditEvent.objects.filter(action="session.revoked", user=bob)
    assert event.account == alice.account
    assert event.details == {"reason": "admin", "scope": "moved_account", "count": 1}


def test_saving_a_user_without_changing_access_ends_nothing(bob):
    bobs = row_of(browser_for(bob))

    bob.first_name = "Bob"
    bob.save()

    bobs.refresh_from_db()
    assert bobs.revoked_at is None


def test_limits_changed_after_their_preview_are_previewed_again_not_applied(alice, bob):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))
    form = policy(idle=5, absolute=15, apply_now="on", confirmed="on", previewed="30:120")

    response = owner.post(PAGE, form)

    assert "will sign out" in response.content.decode()
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert policy_events() == []


@pytest.mark.parametrize("scope", ["", "bogus", None])
def test_a_sign_out_with_no_valid_scope_is_refused_and_ends_nothing(alice, bob, scope):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))

    response = owner.post(REVOKE, {} if scope is None else {"scope": scope})

    assert response.status_code == 400
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert bulk_events() == []


def test_signing_out_everyone_including_me_clears_the_browsers_copies(alice):
    response = browser_for(alice).post(REVOKE, {"scope": "all"})

    assert response["Clear-Site-Data"] == '"cache", "storage"'


def ids(content: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', content)


def test_two_password_prompts_on_the_owner_page_never_share_an_id(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        # The policy card asks, and then the sign-out dialog asks too: both prompts
        # are on the page at once, each with a label for its own field.
        policy_prompt = owner.post(
            PAGE, policy("strict"), headers={**HTMX, "HX-Target": "policy-card"}
        ).content.decode()
        revoke_prompt = owner.post(
            "/account/security/revoke-sessions/",
            {"scope": "others"},
            headers={**HTMX, "HX-Target": "owner-actions"},
        ).content.decode()

    assert set(ids(policy_prompt)).isdisjoint(ids(revoke_prompt))
    for prompt in (policy_prompt, revoke_prompt):
        label_for = re.search(r'<label for="([^"]+)"', prompt).group(1)
        assert f'id="{label_for}"' in prompt


def test_a_wrong_password_brings_the_prompt_back_under_its_own_id(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        again = owner.post(
            PAGE,
            {**policy("strict"), "reauth_password": "a wrong guess"},
            headers={**HTMX, "HX-Target": "reauth-policy-card"},
        ).content.decode()

    assert again.lstrip().startswith('<section class="card card-narrow" id="reauth-policy-card"')
    assert 'aria-describedby="reauth-policy-card-reauth_password_error"' in again
    assert 'id="reauth-policy-card-reauth_password_error"' in again


def test_a_target_header_that_is_no_element_id_of_ours_names_nothing(alice):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        clock.shift(timedelta(minutes=20))

        content = owner.post(
            PAGE, policy("strict"), headers={**HTMX, "HX-Target": '"><script>alert(1)</script>'}
        ).content.decode()

    assert content.lstrip().startswith('<section class="card card-narrow" id="reauth"')
    assert "<script>alert(1)" not in content
