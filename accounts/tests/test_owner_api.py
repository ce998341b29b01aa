"""The owner endpoints of the API: GET/PATCH /api/accounts/me/security and POST
/api/accounts/me/security/revoke-sessions (SPEC §4, §6). Owners only, the caller's
own account only, validated and audited by the same functions as the owner page."""

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, User
from accounts.owners import preview_policy
from audit.models import AuditEvent
from conftest import FIREFOX_WINDOWS, PASSWORD, SAFARI_IPHONE, api_login, bearer, browser_for
from securityportal.client import ClientInfo
from sessions import signed_in
from sessions.lifecycle import open_session
from sessions.models import Session

pytestmark = pytest.mark.django_db

JSON = "application/json"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def owner_client(user: User) -> Client:
    """An API client signed in as ``user`` through POST /api/auth/login."""
    return bearer(api_login(user)["access"])


def patch(client: Client, body: object) -> object:
    return client.patch("/api/accounts/me/security", body, content_type=JSON)


def revoke(client: Client, scope: object) -> object:
    return client.post(
        "/api/accounts/me/security/revoke-sessions", {"scope": scope}, content_type=JSON
    )


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def overrides_of(account: Account) -> tuple[int | None, int | None]:
    account.refresh_from_db()
    return account.session_idle_minutes, account.session_absolute_minutes


def policy_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="account.session_policy_update"))


def bulk_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="account.sessions_revoked_bulk"))


def assert_field_error(response, field: str, code: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert list(body["fields"]) == [field]
    assert body["fields"][field][0]


# Who may call them


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/accounts/me/security", None),
        ("patch", "/api/accounts/me/security", {"idle_minutes": 15}),
        ("post", "/api/accounts/me/security/revoke-sessions", {"scope": "others"}),
    ],
    ids=["get", "patch", "revoke"],
)
def test_a_member_is_refused_with_owner_only(alice, bob, method, url, body):
    alices = api_login(alice)

    response = getattr(owner_client(bob), method)(url, body, content_type=JSON)

    assert response.status_code == 403
    assert response.json()["code"] == "owner_only"
    assert "Only the owners of an account" in response.json()["detail"]
    assert overrides_of(alice.account) == (None, None)
    assert Session.objects.get(pk=alices["session"]["id"]).revoked_at is None
    assert policy_events() == bulk_events() == []


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/accounts/me/security"),
        ("patch", "/api/accounts/me/security"),
        ("post", "/api/accounts/me/security/revoke-sessions"),
    ],
)
def test_without_a_bearer_token_it_answers_401(db, method, url):
    response = getattr(Client(), method)(url, {}, content_type=JSON)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_browser_session_cookie_does_not_reach_the_api(alice):
    response = browser_for(alice).patch(
        "/api/accounts/me/security", {"idle_minutes": 15}, content_type=JSON
    )

    assert response.status_code == 401
    assert overrides_of(alice.account) == (None, None)


# Reading the policy


def test_it_shows_the_overrides_effective_values_bounds_and_who_is_signed_in(alice, bob, carol):
    alice.account.session_idle_minutes = 30
    alice.account.save()
    owner = owner_client(alice)
    browser_for(bob)
    browser_for(bob, SAFARI_IPHONE)
    browser_for(carol)

    response = owner.get("/api/accounts/me/security")

    assert response.status_code == 200
    body = response.json()
    assert body["account"] == {"id": alice.account.pk, "name": "Acme"}
    assert body["overrides"] == {"idle_minutes": 30, "absolute_minutes": None}
    assert body["effective"] == {"idle_minutes": 30, "absolute_minutes": 10080}
    assert body["bounds"] == {
        "idle_minutes": {"min": 5, "max": 43200, "default": 60},
        "absolute_minutes": {"min": 15, "max": 129600, "default": 10080},
    }
    people = {person["username"]: person for person in body["active_users"]}
    assert set(people) == {"alice", "bob"}
    assert people["bob"]["live_sessions"] == 2
    assert people["bob"]["email"] == "bob@acme.example"
    assert people["bob"]["is_you"] is False
    assert people["alice"]["is_you"] is True
    assert people["alice"]["live_sessions"] == 1
    assert set(people["alice"]) == {
        "id",
        "username",
        "email",
        "name",
        "last_login",
        "last_active_at",
        "live_sessions",
        "is_you",
    }
    assert body["active_users_next"] is None
    assert body["signed_in"] == {"people": 2, "sessions": 3, "exact": True}


def test_the_bounds_follow_the_settings(alice, settings):
    settings.SESSION_IDLE_MINUTES_MAX = 720

    response = owner_client(alice).get("/api/accounts/me/security")

    assert response.json()["bounds"]["idle_minutes"] == {"min": 5, "max": 720, "default": 60}


def test_the_signed_in_people_cost_the_same_queries_however_many_there_are(alice, acme):
    with time_machine.travel(START, tick=False):
        owner = owner_client(alice)
        with CaptureQueriesContext(connection) as alone:
            owner.get("/api/accounts/me/security")
        for number in range(5):
            member = User.objects.create_user(
                username=f"member{number}",
                email=f"member{number}@acme.example",
                password=PASSWORD,
                account=acme,
            )
            api_login(member)

        with CaptureQueriesContext(connection) as crowded:
            response = owner.get("/api/accounts/me/security")

    assert len(response.json()["active_users"]) == 6
    assert len(crowded.captured_queries) == len(alone.captured_queries)


ACTIVE_USERS = "/api/accounts/me/active-users"


def test_a_crowded_account_is_answered_a_page_at_a_time_with_a_cursor(alice, acme):
    owner = owner_client(alice)
    for number in range(signed_in.PAGE_SIZE):
        member = User.objects.create_user(
            username=f"member{number:03}", email=f"member{number:03}@acme.example", account=acme
        )
        open_session(
            user=member, kind="api", client=ClientInfo(ip=None, user_agent=""), now=timezone.now()
        )

    first = owner.get("/api/accounts/me/security").json()
    rest = owner.get(ACTIVE_USERS, {"after": first["active_users_next"]})

    assert len(first["active_users"]) == signed_in.PAGE_SIZE
    assert first["signed_in"] == {
        "people": signed_in.PAGE_SIZE + 1,
        "sessions": signed_in.PAGE_SIZE + 1,
        "exact": True,
    }
    assert rest.status_code == 200
    # The owner signed in first: the least recently active, alone on the last page.
    assert [person["username"] for person in rest.json()["results"]] == ["alice"]
    assert rest.json()["results"][0]["is_you"] is True
    assert rest.json()["next"] is None


def test_the_first_page_of_active_users_needs_no_cursor(alice, bob, carol):
    owner = owner_client(alice)
    api_login(bob)
    api_login(carol)

    response = owner.get(ACTIVE_USERS)

    assert response.status_code == 200
    assert {person["username"] for person in response.json()["results"]} == {"alice", "bob"}


@pytest.mark.parametrize("after", ["", "nope", "12-" + "z" * 32, "9" * 30 + "-" + "a" * 32])
def test_a_forged_cursor_is_a_400_naming_the_fix(alice, after):
    response = owner_client(alice).get(ACTIVE_USERS, {"after": after})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_cursor"
    assert "after" in body["fields"]


def test_a_member_cannot_list_the_active_users(bob):
    response = owner_client(bob).get(ACTIVE_USERS)

    assert response.status_code == 403
    assert response.json()["code"] == "owner_only"


# Changing the policy


def test_a_valid_change_is_saved_audited_and_answered_with_the_new_state(alice):
    owner = owner_client(alice)

    response = patch(owner, {"idle_minutes": 30, "absolute_minutes": 600})

    assert response.status_code == 200
    body = response.json()
    assert body["overrides"] == {"idle_minutes": 30, "absolute_minutes": 600}
    assert body["effective"] == {"idle_minutes": 30, "absolute_minutes": 600}
    assert body["sessions_ended"] == 0
    assert [person["username"] for person in body["active_users"]] == ["alice"]
    assert overrides_of(alice.account) == (30, 600)
    [event] = policy_events()
    assert event.actor == alice
    assert event.account == alice.account
    assert event.ip == "127.0.0.1"
    assert event.details["old"] == {"idle_minutes": None, "absolute_minutes": None}
    assert event.details["new"] == {"idle_minutes": 30, "absolute_minutes": 600}
    assert event.details["effective"] == {"idle_minutes": 30, "absolute_minutes": 600}
    assert event.details["effective_before"] == {"idle_minutes": 60, "absolute_minutes": 10080}


def test_a_get_after_a_change_reads_it_back(alice):
    owner = owner_client(alice)
    patch(owner, {"idle_minutes": 15, "absolute_minutes": 480})

    body = owner.get("/api/accounts/me/security").json()

    assert body["overrides"] == body["effective"] == {"idle_minutes": 15, "absolute_minutes": 480}


def test_an_omitted_key_keeps_its_override(alice):
    alice.account.session_idle_minutes, alice.account.session_absolute_minutes = 30, 600
    alice.account.save()

    response = patch(owner_client(alice), {"absolute_minutes": 900})

    assert response.json()["overrides"] == {"idle_minutes": 30, "absolute_minutes": 900}
    assert overrides_of(alice.account) == (30, 900)
    [event] = policy_events()
    assert event.details["old"] == {"idle_minutes": 30, "absolute_minutes": 600}
    assert event.details["new"] == {"idle_minutes": 30, "absolute_minutes": 900}


def test_null_clears_an_override_to_the_system_default(alice):
    alice.account.session_idle_minutes, alice.account.session_absolute_minutes = 15, 480
    alice.account.save()

    response = patch(owner_client(alice), {"idle_minutes": None, "absolute_minutes": None})

    assert response.status_code == 200
    assert response.json()["overrides"] == {"idle_minutes": None, "absolute_minutes": None}
    assert response.json()["effective"] == {"idle_minutes": 60, "absolute_minutes": 10080}
    assert overrides_of(alice.account) == (None, None)
    [event] = policy_events()
    assert event.details["old"] == {"idle_minutes": 15, "absolute_minutes": 480}
    assert event.details["new"] == {"idle_minutes": None, "absolute_minutes": None}
    assert event.details["effective"] == {"idle_minutes": 60, "absolute_minutes": 10080}


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"idle_minutes": 4}, "idle_minutes", "out_of_bounds"),
        ({"idle_minutes": 43201}, "idle_minutes", "out_of_bounds"),
        ({"idle_minutes": 0}, "idle_minutes", "out_of_bounds"),
        ({"idle_minutes": -30}, "idle_minutes", "out_of_bounds"),
        ({"absolute_minutes": 14}, "absolute_minutes", "out_of_bounds"),
        ({"absolute_minutes": 129601}, "absolute_minutes", "out_of_bounds"),
        ({"absolute_minutes": 10**30}, "absolute_minutes", "out_of_bounds"),
        # Neither value is out of bounds: the idle limit outlives the default absolute one.
        ({"idle_minutes": 43200}, "idle_minutes", "idle_exceeds_absolute"),
        ({"idle_minutes": 120, "absolute_minutes": 60}, "idle_minutes", "idle_exceeds_absolute"),
        ({"absolute_minutes": 30}, "absolute_minutes", "idle_exceeds_absolute"),
        ({"idle_minutes": "30"}, "idle_minutes", "invalid"),
        ({"idle_minutes": "ten"}, "idle_minutes", "invalid"),
        ({"idle_minutes": 30.5}, "idle_minutes", "invalid"),
        ({"idle_minutes": 30.0}, "idle_minutes", "invalid"),
        ({"idle_minutes": True}, "idle_minutes", "invalid"),
        ({"absolute_minutes": [600]}, "absolute_minutes", "invalid"),
        ({"absolute_minutes": {"minutes": 600}}, "absolute_minutes", "invalid"),
        ({"idle_minutes": 30, "apply_now": "yes"}, "apply_now", "invalid"),
        ({"idle_minutes": 30, "apply_now": 1}, "apply_now", "invalid"),
        ({"idle_minutes": 30, "apply_now": None}, "apply_now", "null"),
    ],
    ids=[
        "idle-below-min",
        "idle-above-max",
        "idle-zero",
        "idle-negative",
        "absolute-below-min",
        "absolute-above-max",
        "absolute-huge",
        "idle-above-default-absolute",
        "idle-above-absolute",
        "absolute-below-default-idle",
        "idle-string-number",
        "idle-word",
        "idle-fraction",
        "idle-float",
        "idle-bool",
        "absolute-list",
        "absolute-object",
        "apply-now-string",
        "apply-now-number",
        "apply-now-null",
    ],
)
def test_a_policy_the_rule_refuses_is_a_field_error_and_changes_nothing(alice, body, field, code):
    response = patch(owner_client(alice), body)

    assert_field_error(response, field, code)
    assert overrides_of(alice.account) == (None, None)
    assert policy_events() == []


def test_a_null_that_clears_to_a_default_shorter_than_idle_is_refused(alice):
    alice.account.session_idle_minutes, alice.account.session_absolute_minutes = 20000, 30000
    alice.account.save()

    response = patch(owner_client(alice), {"absolute_minutes": None})

    # The default absolute limit (10080) would be shorter than the idle override.
    assert_field_error(response, "idle_minutes", "idle_exceeds_absolute")
    assert "(10080 minutes)" in response.json()["fields"]["idle_minutes"][0]
    assert overrides_of(alice.account) == (20000, 30000)
    assert policy_events() == []


def test_a_number_too_long_to_read_is_a_400_not_a_500(alice):
    response = owner_client(alice).patch(
        "/api/accounts/me/security", '{"idle_minutes": ' + "9" * 5000 + "}", content_type=JSON
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert overrides_of(alice.account) == (None, None)
    assert policy_events() == []


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({}, "non_field_errors", "empty"),
        ({"idle_minute": 30}, "idle_minute", "unknown_field"),
        ({"idle_minutes": 30, "account_id": 2}, "account_id", "unknown_field"),
    ],
    ids=["empty", "misspelt", "extra"],
)
def test_an_empty_body_or_an_unknown_key_is_refused_naming_the_allowed_keys(
    alice, body, field, code
):
    response = patch(owner_client(alice), body)

    assert_field_error(response, field, code)
    assert "idle_minutes, absolute_minutes, apply_now" in response.json()["fields"][field][0]
    assert overrides_of(alice.account) == (None, None)
    assert policy_events() == []


@pytest.mark.parametrize("body", ["[]", "null", "30", '"idle_minutes"'])
def test_a_body_that_is_not_an_object_is_refused(alice, body):
    response = owner_client(alice).patch("/api/accounts/me/security", body, content_type=JSON)

    assert response.status_code == 400
    assert response.json()["fields"] == {"non_field_errors": ["Send a JSON object."]}
    assert policy_events() == []


def test_saving_the_same_policy_again_writes_no_audit_row(alice):
    owner = owner_client(alice)
    patch(owner, {"idle_minutes": 30})

    response = patch(owner, {"idle_minutes": 30})

    assert response.status_code == 200
    assert response.json()["sessions_ended"] == 0
    assert len(policy_events()) == 1


def test_a_new_policy_applies_at_the_next_sign_in(alice, bob):
    with time_machine.travel(START, tick=False) as clock:
        before = api_login(bob)
        patch(owner_client(alice), {"idle_minutes": 30, "absolute_minutes": 600})
        clock.shift(timedelta(minutes=5))
        after = api_login(bob)["session"]

    session = Session.objects.get(pk=after["id"])
    assert session.expire_date == session.created_at + timedelta(minutes=600)
    assert session.idle_timeout == timedelta(minutes=30)
    assert after["absolute_expires_at"] == "2026-03-02T19:05:00Z"
    # A session already signed in keeps the limits it started with.
    unchanged = Session.objects.get(pk=before["session"]["id"])
    assert unchanged.expire_date == unchanged.created_at + timedelta(minutes=10080)


def test_apply_now_ends_exactly_the_sessions_a_preview_counts(alice, bob, carol):
    with time_machine.travel(START, tick=False) as clock:
        phone = browser_for(bob, SAFARI_IPHONE)
        other_tenant = browser_for(carol)
        for _ in range(3):  # in use all along: only its age is past the new limit
            clock.shift(timedelta(minutes=55))
            phone.get("/settings/security/")
            other_tenant.get("/settings/security/")
        laptop = browser_for(bob, FIREFOX_WINDOWS)
        clock.shift(timedelta(minutes=40))  # the laptop is now idle past 30 minutes
        recent = browser_for(bob)
        owner = api_login(alice)
        expected = preview_policy(account=alice.account, idle_minutes=30, absolute_minutes=120)

        response = patch(
            bearer(owner["access"]),
            {"idle_minutes": 30, "absolute_minutes": 120, "apply_now": True},
        )

    assert expected == 2
    assert response.status_code == 200
    assert response.json()["sessions_ended"] == expected
    people = response.json()["active_users"]
    assert {person["username"]: person["live_sessions"] for person in people} == {
        "alice": 1,
        "bob": 1,
    }
    assert row_of(phone).revoked_reason == "expired_absolute"
    assert row_of(laptop).revoked_reason == "expired_idle"
    survivor = row_of(recent)
    assert survivor.revoked_at is None
    assert survivor.expire_date == survivor.created_at + timedelta(minutes=120)
    assert survivor.idle_timeout == timedelta(minutes=30)
    assert Session.objects.get(pk=owner["session"]["id"]).revoked_at is None
    untouched = row_of(other_tenant)
    assert untouched.revoked_at is None
    assert untouched.expire_date == untouched.created_at + timedelta(minutes=10080)
    [event] = policy_events()
    assert event.details["applied_now"] is True
    assert event.details["sessions_ended"] == 2


def test_without_apply_now_signed_in_sessions_keep_their_limits(alice, bob):
    with time_machine.travel(START, tick=False) as clock:
        phone = browser_for(bob, SAFARI_IPHONE)
        for _ in range(3):
            clock.shift(timedelta(minutes=55))
            phone.get("/settings/security/")

        response = patch(owner_client(alice), {"absolute_minutes": 120})

    assert response.json()["sessions_ended"] == 0
    old = row_of(phone)
    assert old.revoked_at is None
    assert old.expire_date == old.created_at + timedelta(minutes=10080)


class Patcher(threading.Thread):
    """Sends one PATCH over its own database connection, whose backend pid it
    publishes so the test can see when it waits for a lock."""

    def __init__(self, access: str, body: dict) -> None:
        super().__init__()
        self.access = access
        self.body = body
        self.pid: int | None = None
        self.answer = None

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            client = bearer(self.access)
            client.raise_request_exception = False  # a crash must show up as a 500
            self.answer = patch(client, self.body)
        finally:
            connection.close()


def wait_until_blocked(patchers: list[Patcher]) -> None:
    deadline = time.monotonic() + 30
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_locks WHERE NOT granted AND pid = ANY(%s)",
                [[patcher.pid for patcher in patchers if patcher.pid is not None]],
            )
            waiting = {pid for (pid,) in cursor.fetchall()}
        if all(patcher.pid in waiting for patcher in patchers):
            return
        assert all(patcher.is_alive() for patcher in patchers), "a PATCH did not wait"
        assert time.monotonic() < deadline, "the PATCHes never queued for the account"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_partial_changes_at_once_both_stick(alice):
    patchers = [
        Patcher(api_login(alice)["access"], {"idle_minutes": 30}),
        Patcher(api_login(alice)["access"], {"absolute_minutes": 600}),
    ]

    with transaction.atomic():
        # Hold the account row as another owner's save would, so both PATCHes
        # queue for it before either has read the overrides it keeps.
        Account.objects.select_for_update().get(pk=alice.account_id)
        for patcher in patchers:
            patcher.start()
        wait_until_blocked(patchers)
    for patcher in patchers:
        patcher.join(timeout=60)

    assert [patcher.answer.status_code for patcher in patchers] == [200, 200]
    assert overrides_of(alice.account) == (30, 600)
    assert len(policy_events()) == 2


# Signing everyone out


@pytest.fixture
def crowd(alice, bob, carol) -> dict:
    """Signed-in sessions of both tenants: alice's API session making the call, her
    browser, bob's browser and API client, and carol (Globex) in a browser."""
    caller = api_login(alice)
    return {
        "caller": caller,
        "client": bearer(caller["access"]),
        "alices_browser": browser_for(alice),
        "bobs_browser": browser_for(bob),
        "bobs_api": api_login(bob, FIREFOX_WINDOWS),
        "carols_browser": browser_for(carol),
    }


def test_others_ends_every_session_of_the_account_but_the_callers(crowd, alice):
    response = revoke(crowd["client"], "others")

    assert response.status_code == 200
    assert response.json() == {"revoked_count": 3}
    assert "Clear-Site-Data" not in response
    assert Session.objects.get(pk=crowd["caller"]["session"]["id"]).revoked_at is None
    assert crowd["client"].get("/api/accounts/me/security").status_code == 200
    for browser in (crowd["alices_browser"], crowd["bobs_browser"]):
        assert row_of(browser).revoked_reason == "owner_bulk"
    assert Session.objects.get(pk=crowd["bobs_api"]["session"]["id"]).revoked_reason == (
        "owner_bulk"
    )
    assert bearer(crowd["bobs_api"]["access"]).get("/api/auth/me").status_code == 401
    refreshed = Client().post(
        "/api/auth/refresh", {"refresh": crowd["bobs_api"]["refresh"]}, content_type=JSON
    )
    assert refreshed.status_code == 401
    assert row_of(crowd["carols_browser"]).revoked_at is None
    [event] = bulk_events()
    assert event.details == {"scope": "others", "count": 3}
    assert event.actor == alice
    assert event.account == alice.account


def test_all_ends_the_callers_session_too(crowd, alice):
    response = revoke(crowd["client"], "all")

    assert response.status_code == 200
    assert response.json() == {"revoked_count": 4}
    # A sign-out like POST /api/auth/logout: a browser application forgets its data.
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    after = crowd["client"].get("/api/accounts/me/security")
    assert after.status_code == 401
    assert after.json()["code"] == "session_revoked"
    assert not Session.objects.filter(account=alice.account, revoked_at__isnull=True).exists()
    assert row_of(crowd["carols_browser"]).revoked_at is None
    [event] = bulk_events()
    assert event.details == {"scope": "all", "count": 4}
    assert event.actor == alice


@pytest.mark.parametrize("scope", ["everyone", "", None, 1, ["all"], {"all": True}])
def test_a_bad_scope_is_a_field_error_and_ends_nothing(crowd, scope):
    response = revoke(crowd["client"], scope)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["scope"]
    assert Session.objects.filter(revoked_at__isnull=False).count() == 0
    assert bulk_events() == []


def test_a_missing_scope_is_a_field_error(crowd):
    response = crowd["client"].post(
        "/api/accounts/me/security/revoke-sessions", {}, content_type=JSON
    )

    assert response.status_code == 400
    assert response.json()["code"] == "required"
    assert list(response.json()["fields"]) == ["scope"]
    assert bulk_events() == []


# Another tenant's owner


def test_another_accounts_owner_sees_and_changes_only_their_own_account(alice, bob, carol):
    alice.account.session_idle_minutes = 30
    alice.account.save()
    browser_for(bob)
    carols = owner_client(carol)

    read = carols.get("/api/accounts/me/security").json()
    changed = patch(carols, {"idle_minutes": 15, "absolute_minutes": 480})

    assert read["account"]["name"] == "Globex"
    assert read["overrides"] == {"idle_minutes": None, "absolute_minutes": None}
    assert [person["username"] for person in read["active_users"]] == ["carol"]
    assert changed.json()["account"]["name"] == "Globex"
    assert overrides_of(alice.account) == (30, None)
    assert overrides_of(carol.account) == (15, 480)
    [event] = policy_events()
    assert event.account == carol.account


def test_another_accounts_owner_signing_everyone_out_leaves_this_account_alone(crowd, carol):
    carols = api_login(carol)

    response = revoke(bearer(carols["access"]), "all")

    assert response.json() == {"revoked_count": 2}
    assert row_of(crowd["carols_browser"]).revoked_reason == "owner_bulk"
    acme_live = Session.objects.filter(account__name="Acme", revoked_at__isnull=True)
    assert acme_live.count() == 4
    [event] = bulk_events()
    assert event.account == carol.account


def test_a_change_through_an_api_session_signed_in_long_ago_needs_a_new_sign_in(alice, bob):
    with time_machine.travel("2026-04-01 09:00Z", tick=False) as clock:
        old = api_login(alice)
        bobs = Session.objects.get(pk=api_login(bob)["session"]["id"])
        clock.shift(timedelta(minutes=20))
        rotated = Client().post(
            "/api/auth/refresh", {"refresh": old["refresh"]}, content_type="application/json"
        )
        fresh = bearer(rotated.json()["access"])

        change = fresh.patch(
            "/api/accounts/me/security", {"idle_minutes": 30}, content_type="application/json"
        )
        revoke = fresh.post(
            "/api/accounts/me/security/revoke-sessions",
            {"scope": "others"},
            content_type="application/json",
        )
        read = fresh.get("/api/accounts/me/security")

    assert (change.status_code, revoke.status_code, read.status_code) == (403, 403, 200)
    assert change.json()["code"] == revoke.json()["code"] == "reauth_required"
    bobs.refresh_from_db()
    assert bobs.revoked_at is None
    alice.account.refresh_from_db()
    assert alice.account.session_idle_minutes is None
