"""URLs: the API, the language switch, and each installed Siyu app's pages under its prefix
(`SiyuApp.url_prefix`), longest prefix first so `customers/tags/` wins over `customers/`."""

from django.urls import include, path

from siyu import health
from siyu.api import api
from siyu.core.contract import siyu_apps

_mounted = sorted(
    ((app.url_prefix, app.routes()) for app in siyu_apps() if app.url_prefix is not None),
    key=lambda mount: -len(mount[0] or ""),
)

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    *(path(prefix or "", include(routes)) for prefix, routes in _mounted),
]
