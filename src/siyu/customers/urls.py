from django.urls import include, path

from siyu.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.home, name="home"),
    path("bulk/", views.bulk, name="bulk"),
    path("<int:customer_id>/", views.customer, name="customer"),
    path("<int:customer_id>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:customer_id>/remark/<int:relation_id>/", views.customer_remark, name="customer_remark"),
    path("fields/", views.fields, name="fields"),
    path("fields/<int:field_id>/", views.field_edit, name="field_edit"),
    path("fields/<int:field_id>/delete/", views.field_delete, name="field_delete"),
    path("sync/", views.sync, name="sync"),
    path("sync/start/", views.sync_start, name="sync_start"),
    path("sync/<int:sync_id>/status/", views.sync_status, name="sync_status"),
    path("sync/<int:sync_id>/resume/", views.sync_resume, name="sync_resume"),
    path("", include("siyu.customers.churn.urls")),
]
