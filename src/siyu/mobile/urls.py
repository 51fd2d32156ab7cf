"""Phone pages under /m/<brand>/: the staff sidebar and fans' pages."""

from django.urls import path

from siyu.mobile import views

app_name = "mobile"
urlpatterns = [
    path("<slug:brand>/staff/", views.staff_home, name="staff_home"),
    path("<slug:brand>/staff/oauth/", views.staff_oauth, name="staff_oauth"),
    path("<slug:brand>/staff/signature/", views.staff_signature, name="staff_signature"),
    path("<slug:brand>/staff/c/<str:external_userid>/", views.staff_customer, name="staff_customer"),
    path("<slug:brand>/staff/c/<str:external_userid>/tags/", views.staff_tag, name="staff_tag"),
    path("<slug:brand>/staff/g/<str:chat_id>/", views.staff_group, name="staff_group"),
    path("<slug:brand>/staff/scripts/", views.staff_scripts, name="staff_scripts"),
    path("<slug:brand>/staff/scripts/<int:script_id>/sent/", views.staff_script_sent, name="staff_script_sent"),
    path("<slug:brand>/staff/tasks/", views.staff_tasks, name="staff_tasks"),
    path("<slug:brand>/staff/tasks/<int:task_id>/<str:action>/", views.staff_task_action, name="staff_task_action"),
    path("<slug:brand>/f/<str:token>/", views.fan_link, name="fan_link"),
    path("<slug:brand>/fan/oauth/", views.fan_oauth, name="fan_oauth"),
    path("<slug:brand>/fan/welfare/", views.fan_welfare, name="fan_welfare"),
    path("<slug:brand>/fan/me/", views.fan_me, name="fan_me"),
    path("<slug:brand>/fan/checkin/", views.fan_checkin, name="fan_checkin"),
    path("<slug:brand>/fan/points/", views.fan_points, name="fan_points"),
    path("<slug:brand>/fan/boards/", views.fan_boards, name="fan_boards"),
    path("<slug:brand>/fan/boards/<int:group_id>/", views.fan_board, name="fan_board"),
    path("<slug:brand>/fan/persona/<int:persona_id>/avatar/", views.persona_avatar, name="persona_avatar"),
]
