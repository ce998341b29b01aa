"""New-device sign-ins (SPEC §7): flagged, audited and e-mailed once per device, and the
e-mail's "This wasn't me" link signs out exactly that session, once, while it is fresh."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from smtplib import SMTPRecipientsRefused

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent, LoginEvent
from conftest import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    PASSWORD,
    PYTHON_CLIENT,
    SAFARI_IPHONE,
    api_login,
    bearer,
    browser_for,
    free_port,
)

# The e-mails leave when the action's transaction commits: no test transaction
# wraps these tests, so each request's own transaction is the outermost one and
# commits (or rolls back) as in production.
pytestmark = pytest.mark.django_db(transaction=True)

# The audit app sits below sessions in the import layers, so even its tests reach
# the session rows through the app registry rather than an import.
Session = apps.get_model("user_sessions", "Session")

NEW_DEVICE_SUBJECT = "New sign-in to your Security Portal account"
LINK = re.compile(r"http://testserver(/sessions/disown/[^/\s]+/)")
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def sign_in(client: Client, username: str = "alice") -> None:
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content


def sign_out(client: Client) -> None:
    assert client.post("/logout/").status_code == 302


def api_sign_in(user_agent: str, ip: str) -> dict:
    response = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip).post(
        "/api/auth/login",
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def last_sign_in() -> LoginEvent:
    return LoginEvent.objects.filter(success=True).latest("created_at", "id")


def new_device_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="login.new_device").order_by("id"))


def new_device_mails() -> list:
    return [message for message in mail.outbox if message.subject == NEW_DEVICE_SUBJECT]


def device_cookie_name(client: Client) -> str:
    [name] = [name for name in client.cookies if name.endswith("device")]
    return name


def row_of(browser: Client) -> Session:
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(key_hash=hashlib.sha256(key.encode()).hexdigest())


def link_in(message) -> str:
    """The path of the "This wasn't me" link in a new-device e-mail."""
    [path] = LINK.findall(message.body)
    return path


def revoked_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="session.revoked"))


def is_signed_in(browser: Client) -> bool:
    return browser.get("/settings/security/").status_code == 200


# Recognising devices


def test_the_first_sign_in_from_a_browser_is_flagged_and_emailed_once(alice):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)

    sign_in(laptop)
    first = last_sign_in()
    sign_out(laptop)
    sign_in(laptop)
    second = last_sign_in()

    assert first.new_device is True
    assert second.new_device is False
    [message] = new_device_mails()
    assert message.to == ["alice@acme.example"]
    assert "Chrome 131 on macOS" in message.body
    assert link_in(message)
    [event] = new_device_events()
    assert event.user == alice
    assert event.actor == alice
    assert event.target == f"session:{first.session_id}"
    assert event.details == {"channel": "browser", "device": "Chrome 131 on macOS"}


def test_a_browser_without_the_device_cookie_is_a_new_device(alice):
    sign_in(Client(HTTP_USER_AGENT=CHROME_MAC))

    # Same user agent, same address: only the cookie tells browsers apart.
    sign_in(Client(HTTP_USER_AGENT=CHROME_MAC))

    assert last_sign_in().new_device is True
    assert len(new_device_mails()) == 2
    assert len(new_device_events()) == 2


def test_a_forged_device_cookie_counts_as_a_new_device(alice):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)
    sign_in(laptop)
    name = device_cookie_name(laptop)
    genuine = laptop.cookies[name].value
    intruder = Client(HTTP_USER_AGENT=CHROME_MAC)
    value, signature = genuine.rsplit(":", 1)
    intruder.cookies[name] = f"{value}:{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"

    sign_in(intruder)

    assert last_sign_in().new_device is True
    assert len(new_device_mails()) == 2
    assert intruder.cookies[name].value != genuine


def test_the_device_cookie_is_signed_http_only_and_long_lived(alice):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)

    sign_in(laptop)

    cookie = laptop.cookies[device_cookie_name(laptop)]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.DEVICE_COOKIE_DAYS * 86400
    assert ":" in cookie.value


def test_an_api_client_is_known_by_user_agent_and_network(alice):
    api_sign_in(PYTHON_CLIENT, "203.0.113.5")
    first = last_sign_in()
    api_sign_in(PYTHON_CLIENT, "203.0.113.77")
    same_network = last_sign_in()
    api_sign_in(FIREFOX_WINDOWS, "203.0.113.5")
    other_agent = last_sign_in()
    api_sign_in(PYTHON_CLIENT, "198.51.100.5")
    other_network = last_sign_in()

    assert first.new_device is True
    assert same_network.new_device is False
    assert other_agent.new_device is True
    assert other_network.new_device is True
    assert len(new_device_mails()) == 3
    assert [event.details["channel"] for event in new_device_events()] == ["api"] * 3


def test_devices_are_known_per_user(alice, bob):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)
    sign_in(laptop, "alice")
    sign_out(laptop)

    sign_in(laptop, "bob")

    assert last_sign_in().user == bob
    assert last_sign_in().new_device is True
    assert [message.to for message in new_device_mails()] == [
        ["alice@acme.example"],
        ["bob@acme.example"],
    ]


def test_the_emails_link_points_to_the_public_url_whatever_host_the_sign_in_named(alice, settings):
    # With several allowed hosts, an intruder signing in would choose where the
    # victim's security e-mail sends them.
    settings.ALLOWED_HOSTS = ["portal.example.com", "legacy.example.net"]
    settings.PUBLIC_URL = "https://portal.example.com"

    response = Client(HTTP_USER_AGENT=SAFARI_IPHONE).post(
        "/login/", {"username": "alice", "password": PASSWORD}, HTTP_HOST="legacy.example.net"
    )

    assert response.status_code == 302
    [message] = new_device_mails()
    assert "https://portal.example.com/sessions/disown/" in message.body
    assert "legacy.example.net" not in message.body


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (
            "Mozilla/5.0 (Linux; Android 13; URGENT call 1-800-555-0100 or visit "
            "secure-acme-login.com now Build/TQ3A) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "Chrome Mobile 120 on Android",
        ),
        ("secure-acme-login.com/1.0", "An app or browser that is not recognised"),
        (
            "Mozilla/5.0 (compatible; Call 1 800 555 0100 now bot/1.0)",
            "An app or browser that is not recognised",
        ),
    ],
    ids=["phone-model", "product-token", "crawler"],
)
def test_the_email_names_no_text_the_signing_in_client_wrote(alice, user_agent, shown):
    # The intruder's user agent would otherwise write their lines into a genuine
    # security e-mail: a number to call, an address to visit.
    browser_for(alice, user_agent)

    [message] = new_device_mails()
    assert f"Device:  {shown}" in message.body
    assert "800" not in message.body
    assert "acme-login" not in message.body


def test_a_failed_sign_in_is_never_flagged_or_emailed(alice):
    response = Client(HTTP_USER_AGENT=CHROME_MAC).post(
        "/login/", {"username": "alice", "password": "not the password"}
    )

    assert response.status_code == 200
    assert not LoginEvent.objects.filter(new_device=True).exists()
    assert new_device_mails() == []
    assert new_device_events() == []


def test_the_email_holds_no_secret(alice):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)
    sign_in(laptop)

    [message] = new_device_mails()

    for cookie in laptop.cookies.values():
        assert cookie.value not in message.body
    assert PASSWORD not in message.body


class RolledBack(Exception):
    """Raised inside a transaction to undo everything done in it."""


def test_a_sign_in_that_rolls_back_is_not_emailed_and_its_device_stays_new(alice):
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)

    with pytest.raises(RolledBack), transaction.atomic():
        sign_in(laptop)
        raise RolledBack

    assert not LoginEvent.objects.filter(success=True).exists()
    assert new_device_events() == []
    # No "new sign-in" for a sign-in that never happened...
    assert new_device_mails() == []
    # ...and the device is still new, so its next sign-in is the one e-mailed.
    sign_in(laptop)
    assert last_sign_in().new_device is True
    assert len(new_device_mails()) == 1


def test_a_mail_server_that_is_down_never_undoes_a_sign_in(alice, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    laptop = Client(HTTP_USER_AGENT=CHROME_MAC)

    sign_in(laptop)

    assert is_signed_in(laptop)
    assert last_sign_in().new_device is True
    assert len(new_device_events()) == 1
    [record] = [r for r in caplog.records if r.name == "accounts.emails"]
    assert record.getMessage() == (
        f"Security e-mail {NEW_DEVICE_SUBJECT!r} to user {alice.pk} could not be sent"
        " (ConnectionRefusedError)"
    )
    assert record.exc_info is None
    assert alice.email not in caplog.text


class RefusingMailServer(BaseEmailBackend):
    """A mail server that refuses the recipient, as SMTP does: its error quotes the
    address."""

    def send_messages(self, messages):
        raise SMTPRecipientsRefused({messages[0].to[0]: (550, b"5.1.1 unknown")})


def test_a_refused_address_is_not_written_to_the_log(alice, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingMailServer"

    sign_in(Client(HTTP_USER_AGENT=CHROME_MAC))

    assert last_sign_in().new_device is True
    assert "could not be sent (SMTPRecipientsRefused)" in caplog.text
    assert alice.email not in caplog.text


# The "This wasn't me" link


@pytest.fixture
def intruded(alice, bob) -> dict:
    """alice on her laptop and a script, bob on his browser, and an unknown phone signed
    in as alice: its e-mail's link is ``link``."""
    devices = {
        "laptop": browser_for(alice),
        "script": api_login(alice),
        "bobs": browser_for(bob, FIREFOX_WINDOWS),
    }
    mail.outbox.clear()
    devices["phone"] = browser_for(alice, SAFARI_IPHONE)
    [message] = new_device_mails()
    devices["link"] = link_in(message)
    devices["phone_row"] = row_of(devices["phone"])
    return devices


def csrf_checked_reader() -> Client:
    """Whoever opens the e-mail, in a browser that is not signed in."""
    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT=CHROME_MAC)


def confirm(reader: Client, link: str):
    page = reader.get(link)
    assert page.status_code == 200
    return reader.post(
        link, {"csrfmiddlewaretoken": reader.cookies[settings.CSRF_COOKIE_NAME].value}
    )


def assert_nothing_revoked(intruded) -> None:
    assert not Session.objects.filter(revoked_at__isnull=False).exists()
    assert revoked_events() == []


def test_opening_the_link_asks_first_and_changes_nothing(intruded):
    response = csrf_checked_reader().get(intruded["link"])

    assert response.status_code == 200
    content = response.content.decode()
    assert "Sign out this session?" in content
    assert "Mobile Safari 17 on iOS" in content
    assert 'method="post"' in content
    assert is_signed_in(intruded["phone"])
    assert_nothing_revoked(intruded)


def test_confirming_the_link_signs_out_exactly_that_session(alice, intruded):
    reader = csrf_checked_reader()

    response = confirm(reader, intruded["link"])

    assert response.status_code == 302
    assert response["Location"] == "/settings/security/#password-title"
    # Not signed in here: the security page sends the reader to sign in first.
    onward = reader.get(response["Location"])
    assert onward.status_code == 302
    assert onward["Location"].startswith("/login/")
    assert "next=/settings/security/" in onward["Location"]
    assert not is_signed_in(intruded["phone"])
    assert is_signed_in(intruded["laptop"])
    assert is_signed_in(intruded["bobs"])
    assert bearer(intruded["script"]["access"]).get("/api/auth/me").status_code == 200
    phone = intruded["phone_row"]
    phone.refresh_from_db()
    assert phone.revoked_reason == "user"
    assert list(Session.objects.filter(revoked_at__isnull=False)) == [phone]
    [event] = revoked_events()
    assert event.user == alice
    assert event.actor == alice
    assert event.target == f"session:{phone.pk}"
    assert event.details["reason"] == "user"


def test_a_signed_in_reader_lands_on_the_password_card_with_a_warning(intruded):
    laptop = intruded["laptop"]

    response = laptop.post(intruded["link"], follow=True)

    assert response.redirect_chain == [("/settings/security/#password-title", 302)]
    content = response.content.decode()
    assert "Mobile Safari 17 on iOS was signed out." in content
    assert "Change your password now" in content
    assert 'id="password-title"' in content
    assert is_signed_in(laptop)
    assert len(revoked_events()) == 1


def test_a_disowned_device_is_new_again_when_it_next_signs_in(alice, intruded):
    # The intruder's own first sign-in must not vouch for their device once the user
    # has said it wasn't them: their next sign-in with the stolen password alerts again.
    confirm(csrf_checked_reader(), intruded["link"])
    mail.outbox.clear()

    sign_in(intruded["phone"])

    latest = LoginEvent.objects.filter(user=alice, success=True).latest("id")
    assert latest.new_device
    assert len(new_device_mails()) == 1
    # The user's own devices stay known.
    sign_out(intruded["laptop"])
    sign_in(intruded["laptop"])
    assert not LoginEvent.objects.filter(user=alice, success=True).latest("id").new_device


def test_disowning_a_device_signs_out_its_other_sessions_too(alice, intruded):
    # The intruder's second sign-in from the phone was a known device: no e-mail, no
    # link of its own. Saying the first wasn't you ends it as well.
    again = Client(HTTP_USER_AGENT=SAFARI_IPHONE)
    again.cookies["__Host-device"] = intruded["phone"].cookies["__Host-device"].value
    sign_in(again)
    assert not LoginEvent.objects.filter(user=alice, success=True).latest("id").new_device

    confirm(csrf_checked_reader(), intruded["link"])

    assert not is_signed_in(intruded["phone"])
    assert not is_signed_in(again)
    assert is_signed_in(intruded["laptop"])
    assert bearer(intruded["script"]["access"]).get("/api/auth/me").status_code == 200
    assert len(revoked_events()) == 2


def test_a_reader_signed_in_as_someone_else_is_not_told_to_change_their_own_password(
    intruded,
):
    bobs = intruded["bobs"]

    response = bobs.post(intruded["link"], follow=True)

    assert response.status_code == 200
    content = response.content.decode()
    assert "That session is signed out" in content
    assert "Change your password now" not in content
    assert "Mobile Safari 17 on iOS was signed out." not in content
    assert not is_signed_in(intruded["phone"])
    assert is_signed_in(bobs)
    assert len(revoked_events()) == 1


def test_confirming_without_a_csrf_token_is_refused(intruded):
    reader = csrf_checked_reader()
    reader.get(intruded["link"])

    response = reader.post(intruded["link"])

    assert response.status_code == 403
    assert is_signed_in(intruded["phone"])
    assert_nothing_revoked(intruded)


def test_a_replayed_link_finds_the_session_already_ended(intruded):
    confirm(csrf_checked_reader(), intruded["link"])
    replayer = csrf_checked_reader()

    page = replayer.get(intruded["link"])
    replay = replayer.post(
        intruded["link"],
        {"csrfmiddlewaretoken": replayer.cookies[settings.CSRF_COOKIE_NAME].value},
    )

    assert page.status_code == 200
    assert b"That session has already ended" in page.content
    assert replay.status_code == 200
    assert b"That session has already ended" in replay.content
    assert len(revoked_events()) == 1


def test_a_link_to_a_session_already_signed_out_revokes_nothing(intruded):
    sign_out(intruded["phone"])
    before = len(revoked_events())

    response = Client().post(intruded["link"])

    assert response.status_code == 200
    assert b"That session has already ended" in response.content
    intruded["phone_row"].refresh_from_db()
    assert intruded["phone_row"].revoked_reason == "logout"
    assert len(revoked_events()) == before


def test_a_link_to_a_session_past_its_idle_limit_finds_it_already_ended(intruded):
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        page = Client().get(intruded["link"])
        posted = Client().post(intruded["link"])

    for response in (page, posted):
        assert response.status_code == 200
        assert b"That session has already ended" in response.content
    # Not recorded as signed out by its user: it ended by itself, and the row is left
    # for its next request or the purge to end.
    intruded["phone_row"].refresh_from_db()
    assert intruded["phone_row"].revoked_at is None
    assert revoked_events() == []


def test_the_link_works_until_it_expires_and_not_after(alice):
    # Sessions that last longer than the link, so that only the link runs out.
    alice.account.session_idle_minutes = 43200
    alice.account.session_absolute_minutes = 129600
    alice.account.save()
    with time_machine.travel(START, tick=False) as traveller:
        browser_for(alice)
        mail.outbox.clear()
        browser_for(alice, SAFARI_IPHONE)
        link = link_in(new_device_mails()[0])
        lifetime = timedelta(hours=settings.NEW_DEVICE_LINK_HOURS)

        traveller.move_to(START + lifetime - timedelta(minutes=1))
        fresh = Client().get(link)
        traveller.move_to(START + lifetime + timedelta(minutes=1))
        expired_page = Client().get(link)
        expired_post = Client().post(link)

    assert fresh.status_code == 200
    assert b"Sign out this session?" in fresh.content
    assert expired_page.status_code == 400
    assert b"This link has expired" in expired_page.content
    assert expired_post.status_code == 400
    assert b"This link has expired" in expired_post.content
    assert not Session.objects.filter(revoked_at__isnull=False).exists()
    assert revoked_events() == []


def flipped(link: str, index: int) -> str:
    """``link`` with the token's character at ``index`` changed."""
    token = link.removeprefix("/sessions/disown/").removesuffix("/")
    character = "B" if token[index] != "B" else "C"
    return f"/sessions/disown/{token[:index]}{character}{token[index + 1 :]}/"


@pytest.mark.parametrize("index", [0, 20, -1], ids=["first", "middle", "last"])
def test_an_altered_link_is_refused_and_revokes_nothing(intruded, index):
    altered = flipped(intruded["link"], index)

    page = Client().get(altered)
    post = Client().post(altered)

    assert altered != intruded["link"]
    assert page.status_code == 400
    assert b"This link is not valid" in page.content
    assert post.status_code == 400
    assert b"This link is not valid" in post.content
    assert is_signed_in(intruded["phone"])
    assert_nothing_revoked(intruded)


def test_a_cut_short_link_is_refused(intruded):
    token = intruded["link"].removeprefix("/sessions/disown/").removesuffix("/")

    response = Client().post(f"/sessions/disown/{token[:-5]}/")

    assert response.status_code == 400
    assert_nothing_revoked(intruded)


def test_the_link_of_an_api_sign_in_revokes_that_api_session(alice):
    browser_for(alice)
    mail.outbox.clear()
    script = api_login(alice, PYTHON_CLIENT)
    [message] = new_device_mails()
    assert "(API client)" in message.body

    response = Client().post(link_in(message))

    assert response.status_code == 302
    assert bearer(script["access"]).get("/api/auth/me").status_code == 401
    refresh = Client().post(
        "/api/auth/refresh", {"refresh": script["refresh"]}, content_type="application/json"
    )
    assert refresh.status_code == 401
    session = Session.objects.get(pk=script["session"]["id"])
    assert session.revoked_reason == "user"
    [event] = revoked_events()
    assert event.target == f"session:{session.pk}"
