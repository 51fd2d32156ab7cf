from django.urls import path

from siyu.moments import views

app_name = "moments"
urlpatterns = [
    path("", views.home, name="home"),
    path("persona/<int:persona_id>/", views.calendar, name="calendar"),
    path("new/", views.new, name="new"),
    path("<int:post_id>/", views.post, name="post"),
    path("<int:post_id>/edit/", views.edit, name="edit"),
    path("<int:post_id>/delete/", views.delete, name="delete"),
    path("<int:post_id>/refresh/", views.refresh, name="refresh"),
]
