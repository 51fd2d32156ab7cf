from django.urls import include, path

from siyu.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("wecom/", include("siyu.wecom.urls")),
    path("ip/", include("siyu.ip.urls")),
    path("accounts/", include("siyu.accounts.urls")),
    path("customers/tags/", include("siyu.tags.urls")),
    path("customers/segments/", include("siyu.segments.urls")),
    path("customers/lifecycle/", include("siyu.lifecycle.urls")),
    path("customers/", include("siyu.customers.urls")),
    path("channels/", include("siyu.channels.urls")),
    path("", include("siyu.console.urls")),
]
