from django.urls import path

from siyu.tags import views

app_name = "tags"
urlpatterns = [
    path("", views.home, name="home"),
    path("sync/", views.sync, name="sync"),
    path("bulk/", views.bulk, name="bulk"),
    path("customer/<int:customer_id>/", views.customer_tags, name="customer_tags"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
    path("groups/<int:group_id>/required/", views.group_required, name="group_required"),
    path("groups/<int:group_id>/tags/new/", views.tag_create, name="tag_create"),
    path("<int:tag_id>/edit/", views.tag_edit, name="tag_edit"),
    path("<int:tag_id>/delete/", views.tag_delete, name="tag_delete"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:rule_id>/run/", views.rule_run, name="rule_run"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
]
