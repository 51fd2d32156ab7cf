"""群发 pages, under 内容中心 (content/messages/)."""

from django.urls import path

from siyu.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("settings/", views.settings_page, name="settings"),
    path("<int:message_id>/", views.detail, name="message"),
    path("<int:message_id>/confirm/", views.confirm, name="confirm"),
    path("<int:message_id>/reschedule/", views.reschedule, name="reschedule"),
    path("<int:message_id>/remind/", views.remind, name="remind"),
    path("<int:message_id>/cancel/", views.cancel, name="cancel"),
    path("<int:message_id>/export/", views.export, name="export"),
    path("<int:message_id>/progress/", views.progress_part, name="progress"),
]
