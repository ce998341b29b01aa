"""Static files as production serves them: collected, compressed, hashed names."""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage as WhiteNoiseStorage

# More names than the templates use, so the memo never grows past its first pages.
_REMEMBERED_URLS = 256


class CompressedManifestStaticFilesStorage(WhiteNoiseStorage):
    """WhiteNoise's storage once collectstatic has written its manifest; until then
    (a fresh checkout, the test suite) plain names, served from the source folders,
    instead of a 500 on every page. `check --deploy` reports a missing manifest
    (securityportal.W008), so production never runs on the fallback unawares.

    Every page names the same few files (the stylesheet, the scripts, the icon), and
    each ``{% static %}`` looked its hashed name up and built its URL again. A name's
    URL is fixed by the manifest this storage loaded, so it is worked out once, and
    forgotten when collectstatic writes a new manifest through this storage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._urls: dict[str, str] = {}
        super().__init__(*args, **kwargs)

    def url(self, name: str, force: bool = False) -> str:
        # DEBUG's names are plain (Django's own rule), and a test may turn it on.
        if force or settings.DEBUG:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = super().url(name)
            if len(self._urls) < _REMEMBERED_URLS:
                self._urls[name] = url
        return url

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return super().stored_name(name)

    def has_manifest(self) -> bool:
        """Whether collectstatic has run into STATIC_ROOT with this storage."""
        return bool(self.hashed_files)
