"""群规与治理 pages under community/moderation/."""

from django.urls import path

from siyu.moderation import views

app_name = "moderation"
urlpatterns = [
    path("", views.rules, name="rules"),
    path("rules/new/", views.rules_edit, name="rules_new"),
    path("rules/<int:rules_id>/", views.rules_edit, name="rules_edit"),
    path("rules/<int:rules_id>/publish/", views.rules_publish, name="rules_publish"),
    path("blacklist/", views.blacklist, name="blacklist"),
    path("blacklist/<int:entry_id>/lift/", views.blacklist_lift, name="blacklist_lift"),
    path("alerts/", views.alerts, name="alerts"),
    path("checklist/", views.checklist, name="checklist"),
]
