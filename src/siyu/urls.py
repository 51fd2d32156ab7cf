from django.urls import include, path

from siyu.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("wecom/", include("siyu.wecom.urls")),
    path("", include("siyu.console.urls")),
]
