from django.urls import path

from siyu.groupcodes import views

app_name = "groupcodes"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.create, name="create"),
    path("<int:code_id>/", views.detail, name="detail"),
    path("<int:code_id>/edit/", views.edit, name="edit"),
    path("<int:code_id>/qr.png", views.qr, name="qr"),
    path("<int:code_id>/rotate/", views.rotate, name="rotate"),
    path("<int:code_id>/delete/", views.delete, name="delete"),
]
