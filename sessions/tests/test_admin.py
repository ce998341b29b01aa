"""Sessions in the Django admin: read-only, an owner's own account only, and "Revoke
selected sessions" through Session.revoke (SPEC §5, §7)."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from conftest import FIREFOX_WINDOWS, PASSWORD, SAFARI_IPHONE, api_login, browser_for
from securityportal.client import ClientInfo
from sessions.lifecycle import open_session
from sessions.models import RevokedReason, Session

pytestmark = pytest.mark.django_db

LIST = "/admin/user_sessions/session/"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def open_sessions(user: User, count: int) -> list[Session]:
    return [
        open_session(
            user=user,
            kind=Session.Kind.BROWSER,
            client=ClientInfo(ip=f"198.51.100.{n}", user_agent=FIREFOX_WINDOWS),
            now=timezone.now(),
        )
        for n in range(count)
    ]


def revoke(owner: Client, *sessions: Session, **extra: str):
    return owner.post(
        LIST,
        {
            "action": "revoke_selected",
            "_selected_action": [str(session.pk) for session in sessions],
            **extra,
        },
    )


def revoked_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="session.revoked").order_by("id"))


@pytest.mark.parametrize("selected", ["abc", "\x00", "99999999999999999999"])
def test_revoking_a_selected_id_no_session_can_have_is_refused_and_ends_nothing(
    alice, bob, selected
):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))

    response = owner.post(
        LIST, {"action": "revoke_selected", "_selected_action": [str(bobs.pk), selected]}
    )

    assert response.status_code == 400
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    assert revoked_events() == []


def test_an_owner_lists_only_their_own_account_sessions(alice, bob, carol):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob, SAFARI_IPHONE))
    carols = api_login(carol)["session"]["id"]

    page = owner.get(LIST).content.decode()

    assert f"/admin/user_sessions/session/{bobs.pk}/change/" in page
    assert f"/admin/user_sessions/session/{row_of(owner).pk}/change/" in page
    assert carols not in page
    assert "carol" not in page


def test_filters_and_search_never_show_another_account_sessions(alice, bob, carol):
    owner = browser_for(alice)
    browser_for(bob)
    browser_for(carol)
    carols = Session.objects.get(user=carol)

    bobs = Session.objects.get(user=bob)

    responses = {
        "live": owner.get(f"{LIST}?status=live"),
        "bobs": owner.get(f"{LIST}?q=bob@acme"),
        "searched": owner.get(f"{LIST}?q=carol"),
        "by_ip": owner.get(f"{LIST}?q=127.0.0.1"),
        "choices": owner.get(LIST),
    }

    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 200)
    pages = {name: r.content.decode() for name, r in responses.items()}
    for page in pages.values():
        assert str(carols.pk) not in page
    assert "2 sessions" in pages["live"]
    assert "0 sessions" in pages["searched"]
    # The same filter and search do find the owner's own account's sessions.
    assert f"{LIST}{bobs.pk}/change/" in pages["bobs"]
    assert f"{LIST}{bobs.pk}/change/" in pages["by_ip"]
    # No filter lists users: none can name another account's.
    assert "user__id__exact" not in pages["choices"]


def test_the_list_filters_live_and_ended_sessions(alice, bob):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))
    bobs.revoke(reason=RevokedReason.USER, actor=bob)
    lapsed = row_of(browser_for(bob, SAFARI_IPHONE))
    Session.objects.filter(pk=lapsed.pk).update(last_seen_at=timezone.now() - timedelta(hours=2))

    live = owner.get(LIST, {"status": "live"}).content.decode()
    ended = owner.get(LIST, {"status": "ended"}).content.decode()

    assert f"/{row_of(owner).pk}/change/" in live
    assert "1 session" in live
    assert f"/{bobs.pk}/change/" in ended
    assert f"/{lapsed.pk}/change/" in ended
    assert "2 sessions" in ended


def test_the_list_filters_by_kind_revoked_reason_and_date(alice, bob):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))
    bobs.revoke(reason=RevokedReason.USER, actor=bob)

    revoked = owner.get(f"{LIST}?revoked_reason__exact=user").content.decode()
    api = owner.get(f"{LIST}?kind__exact=api").content.decode()
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = owner.get(LIST, {"created_at__gte": midnight.isoformat(sep=" ")}).content.decode()

    assert f"/{bobs.pk}/change/" in revoked
    assert f"/{row_of(owner).pk}/change/" not in revoked
    assert "0 sessions" in api
    assert "2 sessions" in today


@pytest.mark.parametrize(
    "query",
    [
        "idle_timeout=zz",  # a value the column cannot hold
        "ip=zz",
        # Guessing a secret column one character at a time.
        "key_hash__startswith=a",
        "session_data__contains=a",
        "user__username__startswith=c",
    ],
)
def test_a_lookup_the_list_does_not_offer_is_refused_for_everyone(alice, query):
    root = User.objects.create_superuser(
        username="root", email="root@platform.example", password=PASSWORD
    )

    for person in (alice, root):
        response = browser_for(person).get(f"{LIST}?{query}")
        assert response.status_code == 400, (person, query)


@pytest.mark.parametrize("query", ["kind__exact=%00", "revoked_reason=%00", "created_at__gte=zz"])
def test_a_bad_value_for_a_filter_of_the_list_goes_back_to_the_list(alice, query):
    response = browser_for(alice).get(f"{LIST}?{query}")

    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?e=1"


def test_every_admin_url_of_another_account_session_is_refused(alice, carol):
    owner = browser_for(alice)
    carols = row_of(browser_for(carol))
    own = row_of(owner)

    for url in (f"{LIST}{carols.pk}/change/", f"{LIST}{carols.pk}/history/"):
        response = owner.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    # Nobody deletes sessions (revoking is the way): the same 403 as for one's own.
    assert owner.get(f"{LIST}{carols.pk}/delete/").status_code == 403
    assert owner.get(f"{LIST}{own.pk}/delete/").status_code == 403


def test_a_session_page_never_shows_the_key_hash_or_session_data(alice):
    owner = browser_for(alice)
    own = row_of(owner)

    page = owner.get(f"{LIST}{own.pk}/change/").content.decode()

    assert page.count("Chrome 131 on macOS") >= 1
    assert own.key_hash not in page
    assert "Key hash" not in page
    assert "Session data" not in page
    assert own.session_data[:20] not in page


def test_sessions_are_read_only_in_the_admin(alice, bob):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))

    add = owner.get(f"{LIST}add/")
    change = owner.post(f"{LIST}{bobs.pk}/change/", {"revoked_reason": "admin"})

    assert add.status_code == 403
    assert change.status_code == 403
    bobs.refresh_from_db()
    assert bobs.revoked_at is None


def test_revoke_ends_only_the_selected_sessions_of_the_owner_account(alice, bob, carol):
    owner = browser_for(alice)
    first, second = row_of(browser_for(bob)), row_of(browser_for(bob, FIREFOX_WINDOWS))
    carols = row_of(browser_for(carol))

    response = revoke(owner, first, carols)

    assert response.status_code == 302
    assert "Revoked 1 session." in owner.get(LIST).content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    carols.refresh_from_db()
    assert first.revoked_reason == RevokedReason.ADMIN
    assert second.revoked_at is None
    assert carols.revoked_at is None
    [event] = revoked_events()
    assert (event.actor, event.user, event.target) == (alice, bob, f"session:{first.pk}")
    assert event.details["reason"] == "admin"
    assert event.ip == "127.0.0.1"


def test_revoke_writes_one_row_per_live_session_and_counts_the_ended_ones(alice, bob):
    owner = browser_for(alice)
    first, second, third = open_sessions(bob, 3)
    third.revoke(reason=RevokedReason.USER, actor=bob)

    revoke(owner, first, second, third)

    message = owner.get(LIST).content.decode()
    assert "Revoked 2 sessions. 1 of the selected had already ended." in message
    assert {e.target for e in revoked_events() if e.details["reason"] == "admin"} == {
        f"session:{first.pk}",
        f"session:{second.pk}",
    }
    third.refresh_from_db()
    assert third.revoked_reason == RevokedReason.USER


def test_revoking_every_session_of_the_list_keeps_the_owners_own(alice, bob):
    # "Select all" takes the owner's own session along unseen: as on the security
    # page and in the API, the session in use is ended by signing out, not from a list.
    owner = browser_for(alice)
    owners = row_of(owner)
    bobs = row_of(browser_for(bob))

    response = revoke(owner, owners, select_across="1")

    assert response.status_code == 302
    page = owner.get(LIST)
    assert page.status_code == 200
    assert "Revoked 1 session. Your own session stays signed in: sign out to end it." in (
        page.content.decode()
    )
    owners.refresh_from_db()
    bobs.refresh_from_db()
    assert owners.revoked_at is None
    assert bobs.revoked_reason == RevokedReason.ADMIN
    assert [event.target for event in revoked_events()] == [f"session:{bobs.pk}"]


def test_a_revoked_browser_is_signed_out_on_its_next_request(alice, bob):
    owner = browser_for(alice)
    bobs = browser_for(bob)

    revoke(owner, row_of(bobs))

    response = bobs.get("/settings/security/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?reason=session_expired")


def test_select_all_across_pages_still_reaches_only_the_owner_account(alice, bob, carol):
    owner = browser_for(alice)
    bobs = row_of(browser_for(bob))
    carols = row_of(browser_for(carol))

    revoke(owner, bobs, select_across="1")

    bobs.refresh_from_db()
    carols.refresh_from_db()
    assert bobs.revoked_reason == RevokedReason.ADMIN
    assert carols.revoked_at is None


def test_revoking_with_a_stale_password_asks_for_it_first(alice, bob):
    with time_machine.travel(START, tick=False) as clock:
        owner = browser_for(alice)
        bobs = row_of(browser_for(bob))
        clock.shift(timedelta(minutes=20))

        asked = revoke(owner, bobs)
        bobs.refresh_from_db()
        assert bobs.revoked_at is None
        done = revoke(owner, bobs, reauth_password=PASSWORD)

    assert asked.status_code == 200
    assert "Confirm it" in asked.content.decode()
    assert f'name="_selected_action" value="{bobs.pk}"' in asked.content.decode()
    assert done.status_code == 302
    bobs.refresh_from_db()
    assert bobs.revoked_reason == RevokedReason.ADMIN


def test_the_list_costs_the_same_queries_for_3_or_30_sessions(
    alice, bob, django_assert_max_num_queries
):
    owner = browser_for(alice)
    open_sessions(bob, 2)
    owner.get(LIST)
    with CaptureQueriesContext(connection) as three:
        assert "3 sessions" in owner.get(LIST).content.decode()
    open_sessions(bob, 27)

    with django_assert_max_num_queries(len(three.captured_queries)):
        response = owner.get(LIST)

    assert "30 sessions" in response.content.decode()


def test_the_autocomplete_of_sessions_offers_only_the_owner_account(alice, carol):
    owner = browser_for(alice)
    browser_for(carol)

    response = owner.get(
        "/admin/autocomplete/?app_label=audit&model_name=loginevent&field_name=session"
    )

    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(row_of(owner).pk)]


def test_a_superuser_sees_and_revokes_sessions_of_every_account(alice, carol):
    root = User.objects.create_superuser(
        username="root", email="root@platform.example", password=PASSWORD
    )
    platform = browser_for(root)
    alices, carols = row_of(browser_for(alice)), row_of(browser_for(carol))

    page = platform.get(LIST).content.decode()
    revoke(platform, alices, carols)

    assert f"/{alices.pk}/change/" in page
    assert f"/{carols.pk}/change/" in page
    assert Session.objects.filter(revoked_reason=RevokedReason.ADMIN).count() == 2
