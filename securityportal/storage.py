"""Static files as production serves them: collected, compressed, hashed names."""

from whitenoise.storage import CompressedManifestStaticFilesStorage as WhiteNoiseStorage


class CompressedManifestStaticFilesStorage(WhiteNoiseStorage):
    """WhiteNoise's storage once collectstatic has written its manifest; until then
    (a fresh checkout, the test suite) plain names, served from the source folders,
    instead of a 500 on every page. `check --deploy` reports a missing manifest
    (securityportal.W008), so production never runs on the fallback unawares."""

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            return name
        return super().stored_name(name)

    def has_manifest(self) -> bool:
        """Whether collectstatic has run into STATIC_ROOT with this storage."""
        return bool(self.hashed_files)
