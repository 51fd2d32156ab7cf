"""流失与继承 console pages: churn list, transfers (see `churn.views`)."""

from django.urls import path

from siyu.customers.churn import views as churn_views

urlpatterns: list = [
    path("churn/", churn_views.churn_list, name="churn"),
    path("transfers/", churn_views.transfer_home, name="transfers"),
    path("transfers/request/", churn_views.transfer_request, name="transfer_request"),
    path("transfers/unassigned/", churn_views.transfer_unassigned, name="transfer_unassigned"),
    path("transfers/check/", churn_views.transfer_check, name="transfer_check"),
]
