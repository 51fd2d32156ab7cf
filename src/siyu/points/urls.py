from django.urls import path

from siyu.points import views

app_name = "points"
urlpatterns = [
    path("", views.home, name="home"),
    path("plan/", views.plan, name="plan"),
    path("rewards/new/", views.reward, name="reward_new"),
    path("rewards/<int:reward_id>/", views.reward, name="reward"),
    path("ledger/", views.ledger, name="ledger"),
    path("adjust/", views.adjust, name="adjust"),
    path("groups/", views.groups, name="groups"),
    path("groups/<int:group_id>/", views.group, name="group"),
    path("redemptions/<int:redemption_id>/shipped/", views.shipped, name="shipped"),
]
