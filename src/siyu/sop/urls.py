"""SOP pages, under 内容与SOP (content/sop/)."""

from django.urls import path

from siyu.sop import views, views_analytics

app_name = "sop"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.editor, name="new"),
    path("today/", views.today, name="today"),
    path("staff/", views_analytics.staff_page, name="staff"),
    path("staff/export/", views_analytics.staff_export, name="staff_export"),
    path("tasks/<int:task_id>/<str:action>/", views.task_action, name="task_action"),
    path("<int:sop_id>/", views.detail, name="detail"),
    path("<int:sop_id>/edit/", views.editor, name="edit"),
    path("<int:sop_id>/analytics/", views_analytics.sop_page, name="analytics"),
    path("<int:sop_id>/analytics/export/", views_analytics.sop_export, name="analytics_export"),
    path("<int:sop_id>/status/", views.change_status, name="status"),
]
