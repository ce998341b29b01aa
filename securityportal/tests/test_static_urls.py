"""Static URLs as production's storage writes them into pages: each file under the
hashed name of its content, worked out once per manifest."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template import engines

PAGE_HEAD = "{% load static %}<link rel=stylesheet href=\"{% static 'css/portal.css' %}\">"


@pytest.fixture
def collected_into(settings, tmp_path: Path) -> Path:
    """Production's storage over a folder of our own, holding one stylesheet."""
    source = tmp_path / "source"
    (source / "css").mkdir(parents=True)
    (source / "css" / "portal.css").write_text("body { color: black }\n")
    settings.STATICFILES_DIRS = [source]
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = str(tmp_path / "collected")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "securityportal.storage.CompressedManifestStaticFilesStorage"},
    }
    return source


def stylesheet_url() -> str:
    page = engines["django"].from_string(PAGE_HEAD).render()
    return re.search(r'href="([^"]+)"', page)[1]


def test_a_page_names_the_stylesheet_by_its_hashed_name_and_a_new_collection_by_the_new_one(
    collected_into,
):
    call_command("collectstatic", interactive=False, verbosity=0)
    first = stylesheet_url()
    assert re.fullmatch(r"/static/css/portal\.[0-9a-f]{12}\.css", first)
    assert stylesheet_url() == first

    (collected_into / "css" / "portal.css").write_text("body { color: navy }\n")
    call_command("collectstatic", interactive=False, verbosity=0)

    second = stylesheet_url()
    assert re.fullmatch(r"/static/css/portal\.[0-9a-f]{12}\.css", second)
    # A stale name would point every browser at the old file, cached for a year.
    assert second != first
