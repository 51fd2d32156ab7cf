"""任务宝 URLs: console pages under fission/, and the fans' campaign page under /m/<brand>/fan/
(where the phones' fan session cookie is sent). The app mounts this urlconf at the root."""

from django.urls import path

from siyu.fission import views

app_name = "fission"
urlpatterns = [
    path("fission/", views.home, name="home"),
    path("fission/new/", views.edit, name="new"),
    path("fission/<int:campaign_id>/", views.campaign, name="campaign"),
    path("fission/<int:campaign_id>/edit/", views.edit, name="edit"),
    path("fission/<int:campaign_id>/launch/", views.launch, name="launch"),
    path("fission/<int:campaign_id>/end/", views.end, name="end"),
    path("fission/review/", views.review, name="review"),
    path("fission/review/<int:claim_id>/", views.decide, name="decide"),
    path("m/<slug:brand>/fan/fission/<int:campaign_id>/", views.fan_campaign, name="fan_campaign"),
]
