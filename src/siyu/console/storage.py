from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class ConsoleStaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files. npm packages' CSS may reference assets (flags, payment
    logos, source maps) that we do not collect; those references are left as they are
    instead of failing collectstatic."""

    def hashed_name(self, name: str, content=None, filename=None) -> str:  # type: ignore[no-untyped-def]
        try:
            return ManifestStaticFilesStorage.hashed_name(self, name, content, filename)
        except ValueError:
            if name.startswith("vendor/"):
                return name
            raise
