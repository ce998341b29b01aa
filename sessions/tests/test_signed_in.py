"""Who is signed in to an account: a page at a time, most recently active first, and
a count that stops at a cap (sessions/signed_in.py)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import User
from securityportal.client import ClientInfo
from sessions import signed_in
from sessions.lifecycle import open_session
from sessions.models import RevokedReason, Session
from sessions.signed_in import PeopleCursor, count_signed_in, signed_in_people

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOWHERE = ClientInfo(ip=None, user_agent="")


def member(account, name: str) -> User:
    return User.objects.create_user(username=name, email=f"{name}@acme.example", account=account)


def active(user: User, minutes_ago: int) -> Session:
    """A session of ``user`` last active ``minutes_ago`` before NOW."""
    return open_session(
        user=user, kind="api", client=NOWHERE, now=NOW - timedelta(minutes=minutes_ago)
    )


def names(page) -> list[str]:
    return [user.username for user in page.users]


def test_people_come_most_recently_active_first_each_once_with_their_sessions(alice, bob):
    active(alice, minutes_ago=30)
    active(bob, minutes_ago=40)
    active(bob, minutes_ago=5)

    page = signed_in_people(alice.account, NOW)

    assert names(page) == ["bob", "alice"]
    assert [user.live_sessions for user in page.users] == [2, 1]
    assert page.users[0].last_active_at == NOW - timedelta(minutes=5)
    assert page.next is None


def test_ended_lapsed_and_other_accounts_sessions_do_not_count(alice, bob, carol):
    active(alice, minutes_ago=1)
    active(bob, minutes_ago=2).revoke(reason=RevokedReason.USER, actor=bob, ip=None)
    active(bob, minutes_ago=61)  # past the 60 minutes' idle limit
    active(carol, minutes_ago=1)

    assert names(signed_in_people(alice.account, NOW)) == ["alice"]
    assert count_signed_in(alice.account, NOW) == signed_in.SignedInCount(
        people=1, sessions=1, exact=True
    )


def test_pages_follow_each_other_with_nobody_twice_or_missed(acme):
    people = [member(acme, f"member{number}") for number in range(7)]
    for minutes, person in enumerate(people):
        active(person, minutes_ago=minutes)
        active(person, minutes_ago=minutes + 20)  # an older session changes nothing

    seen, after = [], None
    while True:
        page = signed_in_people(acme, NOW, limit=3, after=after)
        seen.extend(names(page))
        after = page.next
        if after is None:
            break

    assert seen == [person.username for person in people]


def test_people_active_at_the_same_moment_are_paged_without_loss(acme):
    people = [member(acme, f"member{number}") for number in range(5)]
    for person in people:
        active(person, minutes_ago=3)

    first = signed_in_people(acme, NOW, limit=2)
    second = signed_in_people(acme, NOW, limit=2, after=first.next)
    third = signed_in_people(acme, NOW, limit=2, after=second.next)

    paged = names(first) + names(second) + names(third)
    assert sorted(paged) == sorted(person.username for person in people)
    assert third.next is None


def test_a_page_costs_two_statements_however_many_people(acme, django_assert_num_queries):
    for number in range(30):
        active(member(acme, f"member{number}"), minutes_ago=number)

    with django_assert_num_queries(2):
        page = signed_in_people(acme, NOW, limit=10)

    assert len(page.users) == 10


def test_the_count_is_exact_up_to_the_cap_then_a_lower_bound(alice, bob, monkeypatch):
    active(alice, minutes_ago=1)
    active(bob, minutes_ago=2)
    active(bob, minutes_ago=3)
    monkeypatch.setattr(signed_in, "COUNT_CAP", 2)

    capped = count_signed_in(alice.account, NOW)
    monkeypatch.setattr(signed_in, "COUNT_CAP", 3)
    exact = count_signed_in(alice.account, NOW)

    assert capped == signed_in.SignedInCount(people=2, sessions=2, exact=False)
    assert capped.sessions_phrase() == "2 or more sessions"
    assert exact == signed_in.SignedInCount(people=2, sessions=3, exact=True)
    assert exact.sessions_phrase() == "3 sessions"
    assert exact.sessions_phrase(excluding=2) == "1 session"


def test_the_count_is_one_statement(alice, django_assert_num_queries):
    active(alice, minutes_ago=1)

    with django_assert_num_queries(1):
        count_signed_in(alice.account, NOW)


def test_a_cursor_reads_back_what_it_wrote():
    cursor = PeopleCursor(last_seen_at=NOW, session_id=uuid.uuid4())

    assert PeopleCursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "123",
        "123-",
        "-" + "a" * 32,
        "12-" + "g" * 32,
        "12-" + "a" * 31,
        "\uff11\uff12-" + "a" * 32,  # full-width digits: isdigit() alone passes them
        "9" * 21 + "-" + "a" * 32,
        "99999999999999999999-" + "a" * 32,  # past the last date Python can hold
    ],
)
def test_anything_but_a_cursor_is_refused(text):
    with pytest.raises(ValueError):
        PeopleCursor.parse(text)


def test_a_session_that_lapses_between_pages_drops_out_of_the_next(acme):
    people = [member(acme, f"member{number}") for number in range(4)]
    for minutes, person in enumerate(people):
        active(person, minutes_ago=minutes)
    first = signed_in_people(acme, NOW, limit=2)

    # Later, member3's session (3 minutes old at NOW) is idle past the 60 minutes'
    # limit, member2's (2 minutes old) not yet.
    later = NOW + timedelta(minutes=57, seconds=30)
    second = signed_in_people(acme, later, limit=2, after=first.next)

    assert names(first) == ["member0", "member1"]
    assert names(second) == ["member2"]
