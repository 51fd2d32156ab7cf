"""客诉 URLs: console pages under community/complaints/, and the fans' complaint page under
/m/<brand>/fan/ (where the phones' fan session cookie is sent). The app mounts this urlconf at the root."""

from django.urls import path

from siyu.complaints import views

app_name = "complaints"
urlpatterns = [
    path("community/complaints/", views.home, name="home"),
    path("community/complaints/new/", views.new, name="new"),
    path("community/complaints/analytics/", views.analytics, name="analytics"),
    path("community/complaints/<int:complaint_id>/", views.detail, name="detail"),
    path("community/complaints/<int:complaint_id>/<str:action>/", views.act, name="act"),
    path("m/<slug:brand>/fan/complaint/", views.fan_complaint, name="fan_complaint"),
]
