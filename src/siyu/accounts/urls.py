from django.urls import path

from siyu.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("sync/", views.sync, name="sync"),
    path("plan/", views.plan, name="plan"),
    path("kit/", views.kit, name="kit"),
    path("<int:account_id>/edit/", views.edit, name="edit"),
    path("<int:account_id>/avatar/", views.kit_avatar, name="kit_avatar"),
]
