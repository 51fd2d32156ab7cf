from django.urls import path

from siyu.lifecycle import views

app_name = "lifecycle"
urlpatterns = [
    path("", views.home, name="home"),
    path("policy/", views.policy, name="policy"),
    path("angels/", views.angels, name="angels"),
    path("recompute/", views.recompute, name="recompute"),
]
