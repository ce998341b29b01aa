"""`make screenshots`: every page of the portal at 1280 px, at 375 px and at 1280 px in
dark mode, written to docs/screenshots/ as PNG.

A runserver process on a scratch SQLite database holds the demo account (seed_demo)
and a month of sign-ins; Debian's chromium, driven by Playwright as in the browser
tests, signs in through /login/ like a person and photographs each page."""

import os
import re
import subprocess
import sys
import tempfile
from datetime import timedelta
from io import StringIO
from pathlib import Path

import django

PROJECT = Path(__file__).resolve().parent.parent
OUT = PROJECT / "docs" / "screenshots"
VARIANTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}, "color_scheme": "light"},
    "phone": {"viewport": {"width": 375, "height": 812}, "color_scheme": "light"},
    "dark": {"viewport": {"width": 1280, "height": 800}, "color_scheme": "dark"},
}
# The owner's pages after the security page, by name.
PAGES = [
    ("activity", "/settings/security/activity/"),
    ("account-security", "/account/security/"),
    ("logout", "/logout/"),
    ("not-found", "/no-such-page/"),
]
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _seed(database_url: str) -> dict[str, str]:
    """Migrate, create the demo account and give its owner a month of sign-ins; the
    demo passwords, as seed_demo prints them."""
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from audit.models import LoginEvent

    call_command("migrate", verbosity=0)
    printed = StringIO()
    call_command("seed_demo", stdout=printed)
    passwords = dict(re.findall(r"^\s+(\w+)\s+/ (\S+)$", printed.getvalue(), re.MULTILINE))
    owner = User.objects.get(username="owner")
    now = timezone.now()
    # A quiet month with a burst of failed guesses ten days ago.
    LoginEvent.objects.bulk_create(
        LoginEvent(
            user=owner,
            account_id=owner.account_id,
            username="owner",
            ip=f"203.0.113.{day}",
            user_agent=FIREFOX if day % 3 else IPHONE,
            device="Firefox 133 on Windows" if day % 3 else "Mobile Safari 17 on iOS",
            channel="browser",
            success=success,
            failure_reason="" if success else "bad_credentials",
            created_at=now - timedelta(days=day, hours=day % 7),
        )
        for day in range(1, 30)
        for success in [True] * (1 + day % 3) + [False] * (6 if day == 10 else day % 5 == 0)
    )
    return passwords


def _sign_in(browser, base_url: str, username: str, password: str, **options):
    page = browser.new_context(**options).new_page()
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/settings/security/")
    return page


def _sign_out(page) -> None:
    page.locator("header").get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/"))
    page.context.close()


def _shoot(browser, base_url: str, passwords: dict[str, str]) -> list[Path]:
    written = []
    # Other devices and another person, so the lists have something to show.
    for username, agent in [("owner", IPHONE), ("owner", FIREFOX), ("member", FIREFOX)]:
        _sign_in(browser, base_url, username, passwords[username], user_agent=agent)

    for variant, options in VARIANTS.items():

        def save(name: str, page, variant: str = variant) -> None:
            path = OUT / f"{name}-{variant}.png"
            page.screenshot(path=path, full_page=True, animations="disabled")
            written.append(path)

        signed_out = browser.new_context(**options).new_page()
        signed_out.goto(f"{base_url}/login/")
        save("login", signed_out)
        # A name nobody has: the owner's activity and chart stay as seeded.
        signed_out.get_by_label("Username or e-mail").fill("nobody")
        signed_out.get_by_label("Password", exact=True).fill("a wrong guess")
        signed_out.get_by_role("button", name="Sign in").click()
        signed_out.get_by_role("alert").wait_for()
        save("login-error", signed_out)
        signed_out.context.close()

        page = _sign_in(
            browser, base_url, "owner", passwords["owner"], user_agent=CHROME, **options
        )
        save("security", page)
        for name, path in PAGES:
            page.goto(f"{base_url}{path}")
            save(name, page)
        # Signed out, so the next variant's lists look the same as this one's.
        _sign_out(page)
        member = _sign_in(
            browser, base_url, "member", passwords["member"], user_agent=CHROME, **options
        )
        member.goto(f"{base_url}/account/security/")
        save("forbidden", member)
        _sign_out(member)
    return written


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{folder}/db.sqlite3"
        os.environ.update(
            DJANGO_SETTINGS_MODULE="securityportal.settings",
            DJANGO_SECRET_KEY="screenshots-only-secret-key-not-for-production",
            DATABASE_URL=database_url,
        )
        django.setup()
        # The browser tests' own helpers: they import the models, so only after setup.
        from playwright.sync_api import sync_playwright

        from conftest import (
            CHROMIUM,
            CHROMIUM_ARGS,
            free_port,
            server_environment,
            wait_until_listening,
        )

        passwords = _seed(database_url)
        port = free_port()
        with Path(folder, "server.log").open("w") as log:
            # --insecure: runserver serves the stylesheet itself, as DEBUG stays off
            # (the error pages are the production ones). A fixed command, no input.
            server = subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", str(port)],
                cwd=PROJECT,
                env=server_environment(DATABASE_URL=database_url, REDIS_URL=""),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_until_listening(server, port)
                OUT.mkdir(parents=True, exist_ok=True)
                with sync_playwright() as playwright:
                    browser = playwright.chromium.launch(
                        executable_path=CHROMIUM, args=CHROMIUM_ARGS
                    )
                    written = _shoot(browser, f"http://127.0.0.1:{port}", passwords)
                    browser.close()
            finally:
                server.terminate()
                server.wait(timeout=10)
    for path in written:
        print(f"{path.relative_to(PROJECT)}  {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
