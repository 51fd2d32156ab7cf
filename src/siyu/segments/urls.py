from django.urls import path

from siyu.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.segment_new, name="new"),
    path("count/", views.count, name="count"),
    path("upload/", views.upload, name="upload"),
    path("<int:segment_id>/", views.segment_detail, name="segment"),
    path("<int:segment_id>/edit/", views.segment_edit, name="edit"),
    path("<int:segment_id>/export/", views.segment_export, name="export"),
    path("<int:segment_id>/recompute/", views.segment_recompute, name="recompute"),
    path("<int:segment_id>/delete/", views.segment_delete, name="delete"),
]
