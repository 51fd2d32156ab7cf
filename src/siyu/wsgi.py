import os
from collections.abc import Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siyu.settings")
django_application = get_wsgi_application()

from siyu.wecom.wsgi import PREFIX, callback_app  # noqa: E402  (needs Django set up)


def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Django, with WeCom's callbacks routed to their lean endpoint first."""
    if environ.get("PATH_INFO", "").startswith(PREFIX):
        return callback_app(environ, start_response)
    return django_application(environ, start_response)
