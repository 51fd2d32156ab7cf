from django.urls import path

from tests.support.throwaway import views

app_name = "throwaway"
urlpatterns = [path("", views.home, name="home")]
