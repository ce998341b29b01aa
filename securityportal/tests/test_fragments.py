"""A fragment drawn once per key is drawn afresh when its template is edited under the
development server, which reloads templates without restarting."""

from django.utils.autoreload import file_changed

from securityportal.fragments import drawn_once


def test_an_edited_fragment_shows_once_the_development_server_sees_the_edit(settings, tmp_path):
    sources = {"fragment.html": "<b>{{ word }}</b>"}
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", sources)]},
        }
    ]
    fragment = drawn_once("fragment.html", kept=4)
    assert fragment(word="hello") == "<b>hello</b>"

    sources["fragment.html"] = "<i>{{ word }}</i>"
    assert fragment(word="hello") == "<b>hello</b>"  # drawn once
    file_changed.send(sender=None, file_path=tmp_path / "fragment.html")

    assert fragment(word="hello") == "<i>hello</i>"
    assert fragment(word="<script>") == "<i>&lt;script&gt;</i>"
