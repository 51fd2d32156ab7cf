from django.urls import path

from siyu.ip import views

app_name = "ip"
urlpatterns = [
    path("", views.home, name="home"),
    path("personas/new/", views.persona_new, name="persona_new"),
    path("personas/<int:persona_id>/", views.persona_detail, name="persona"),
    path("personas/<int:persona_id>/edit/", views.persona_edit, name="persona_edit"),
    path("personas/<int:persona_id>/avatar/", views.avatar, name="avatar"),
    path("portrait/", views.portrait, name="portrait"),
    path("matrix/", views.matrix, name="matrix"),
]
