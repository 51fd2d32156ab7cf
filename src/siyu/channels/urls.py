from django.urls import path  # noqa: F401

from siyu.channels import reports, views, welcome_views, welfare_views  # noqa: F401

app_name = "channels"
urlpatterns = [
    # views.py: channel codes and their routing
    path("", views.home, name="home"),
    path("codes/new/", views.code_new, name="code_new"),
    path("codes/<int:code_id>/", views.code_detail, name="code"),
    path("codes/<int:code_id>/edit/", views.code_edit, name="code_edit"),
    path("codes/<int:code_id>/deactivate/", views.code_deactivate, name="code_deactivate"),
    path("codes/<int:code_id>/reroute/", views.code_reroute, name="code_reroute"),
    path("promoters/", views.promoters, name="promoters"),
    # welcome_views.py: the welcome-message editor's pictures, voice check and test send
    path("welcome/pictures/", welcome_views.welcome_picture, name="welcome_picture"),
    path("welcome/pictures/upload/", welcome_views.welcome_picture_upload, name="welcome_picture_upload"),
    path("welcome/test-send/", welcome_views.welcome_test_send, name="welcome_test_send"),
    path("welcome/voice/", welcome_views.welcome_voice, name="welcome_voice"),
    path("codes/<int:code_id>/qr-thumbnail.png", views.qr_thumbnail, name="qr_thumbnail"),
    path("codes/download/", views.codes_download, name="codes_download"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/rename/", views.group_rename, name="group_rename"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
    # welfare_views.py: add-friend welfare (加号福利)
    path("welfare/", welfare_views.welfare, name="welfare"),
    path("welfare/new/", welfare_views.welfare_new, name="welfare_new"),
    path("welfare/<int:welfare_id>/", welfare_views.welfare_detail, name="welfare_detail"),
    path("welfare/<int:welfare_id>/codes/", welfare_views.welfare_codes_upload, name="welfare_codes_upload"),
    path("welfare/<int:welfare_id>/grants/<int:grant_id>/redeem/", welfare_views.welfare_redeem, name="welfare_redeem"),
    # reports.py: analytics, export, spend, QR and poster downloads
    path("analytics/", reports.analytics_page, name="analytics"),
    path("analytics/export.xlsx", reports.analytics_export, name="analytics_export"),
    path("analytics/spend/", reports.spend, name="spend"),
    path("codes/<int:code_id>/qr.png", reports.qr_download, name="qr"),
    path("codes/<int:code_id>/poster.png", reports.poster, name="poster"),
]
