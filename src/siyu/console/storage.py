from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

if TYPE_CHECKING:
    from django.core.files import File


class ConsoleStaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files. npm packages' CSS may reference assets (flags, payment
    logos, source maps) that we do not collect; those references are left as they are
    instead of failing collectstatic."""

    def hashed_name(self, name: str, content: File[Any] | None = None, filename: str | None = None) -> str:
        try:
            return ManifestStaticFilesStorage.hashed_name(self, name, content, filename)
        except ValueError:
            if name.startswith("vendor/"):
                return name
            raise
