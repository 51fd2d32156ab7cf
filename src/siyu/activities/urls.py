from django.urls import path

from siyu.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.editor, name="new"),
    path("calendar/", views.calendar, name="calendar"),
    path("<int:activity_id>/", views.activity, name="activity"),
    path("<int:activity_id>/edit/", views.editor, name="edit"),
    path("<int:activity_id>/move/<str:to>/", views.move, name="move"),
    path("<int:activity_id>/items/<int:item_id>/", views.tick, name="tick"),
    path("<int:activity_id>/sop/", views.make_sop, name="make_sop"),
    path("<int:activity_id>/review/", views.review, name="review"),
    path("<int:activity_id>/review/export/", views.export, name="export"),
]
