from django.urls import path

from siyu.community import views

app_name = "community"
urlpatterns = [
    path("", views.home, name="home"),
    path("sync/", views.sync, name="sync"),
    path("mass/", views.mass, name="mass"),
    path("<int:group_id>/", views.group, name="group"),
]
