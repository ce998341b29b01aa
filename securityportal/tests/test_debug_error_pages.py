"""make run (DEBUG): Django's traceback page is answered without the CSP, so it shows
styled and its buttons work; every other page keeps the strict policy, so an inline
script or style fails in development as it would in production."""

import json

import pytest

from conftest import run_python

# Requests through the whole middleware stack of a DEBUG process, as make run loads
# its settings; the routes add views that fail on purpose.
REQUESTS = """
import json, django
from django.conf import settings
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
settings.ROOT_URLCONF = "securityportal.tests.error_urls"
browser = Client(raise_request_exception=False)
too_many_fields = {f"field{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
answers = {
    "sign-in page": browser.get("/login/"),
    "bug in a view": browser.get("/test-errors/broken/"),
    "too many form fields": browser.post("/login/", too_many_fields),
    "unknown page": browser.get("/no-such-page/"),
    "rate limited": browser.get("/test-errors/rate-limited/"),
}
print(json.dumps({
    name: [answer.status_code, answer.headers.get("Content-Security-Policy"),
           "Traceback" in answer.content.decode()]
    for name, answer in answers.items()
}))
"""


@pytest.fixture(scope="module")
def development(tmp_path_factory):
    database = tmp_path_factory.mktemp("debug") / "db.sqlite3"
    done = run_python("-c", REQUESTS, DJANGO_DEBUG="1", SQLITE_PATH=str(database))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("name, status", [("bug in a view", 500), ("too many form fields", 400)])
def test_the_traceback_page_comes_without_the_policy(development, name, status):
    assert development[name] == [status, None, True]


def test_the_debug_404_page_comes_without_the_policy(development):
    assert development["unknown page"][:2] == [404, None]


@pytest.mark.parametrize("name, status", [("sign-in page", 200), ("rate limited", 429)])
def test_the_portals_own_pages_keep_the_strict_policy(development, name, status):
    found_status, policy, traceback = development[name]

    assert found_status == status
    assert {"script-src 'self'", "style-src 'self'"} <= set(policy.split("; "))
    assert traceback is False


def test_production_installs_neither():
    done = run_python(
        "-c",
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DEFAULT_EXCEPTION_REPORTER, *settings.MIDDLEWARE)",
    )

    assert done.returncode == 0, done.stderr
    assert "securityportal.debug" not in done.stdout
