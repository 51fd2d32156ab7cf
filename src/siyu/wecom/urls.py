from django.urls import path

from siyu.wecom import views

app_name = "wecom"
urlpatterns = [
    path("callback/<slug:slug>/", views.callback, name="callback"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/test/", views.test_connection, name="test_connection"),
    path("events/", views.inbound_page, name="inbound"),
    path("events/<int:event_id>/reprocess/", views.reprocess, name="reprocess"),
    path("calls/", views.calls_page, name="calls"),
]
