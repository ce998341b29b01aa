"""The header of every page: who is signed in (name and account), the owner's link
for owners only, sign out; nothing of the kind for a visitor."""

from django.test import Client

from conftest import browser_for


def header(response) -> str:
    page = response.content.decode()
    return page[page.index('<header class="site-header">') : page.index("</header>")]


def test_the_header_names_the_user_and_their_account(alice):
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()

    top = header(browser_for(alice).get("/settings/security/"))

    assert '<span class="who-name">Alice Liddell</span>' in top
    assert "Acme</span>" in top


def test_a_user_without_a_full_name_is_shown_by_username(bob):
    top = header(browser_for(bob).get("/settings/security/"))

    assert '<span class="who-name">bob</span>' in top


def test_an_owner_has_the_account_security_link_marked_when_on_it(alice):
    browser = browser_for(alice)

    on_own_page = header(browser.get("/settings/security/"))
    on_owner_page = header(browser.get("/account/security/"))

    assert '<a href="/settings/security/" aria-current="page">My security</a>' in on_own_page
    assert '<a href="/account/security/">Account security</a>' in on_own_page
    assert '<a href="/account/security/" aria-current="page">Account security</a>' in on_owner_page


def test_a_member_has_no_account_security_link(bob):
    top = header(browser_for(bob).get("/settings/security/"))

    assert "/account/security/" not in top
    assert "Sign out" in top


def test_a_visitor_sees_only_the_brand(db):
    top = header(Client().get("/login/"))

    assert "Security Portal" in top
    assert "site-nav" not in top
    assert "Sign out" not in top
