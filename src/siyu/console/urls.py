from django.urls import include, path

from siyu.console import audit_views, views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password, name="password"),
    path("workspaces/switch/", views.switch_workspace, name="switch_workspace"),
    path("workspaces/new/", views.workspace_new, name="workspace_new"),
    path("team/", views.team, name="team"),
    path("team/roles/", views.team_roles, name="team_roles"),
    path("team/<int:member_id>/role/", views.member_role, name="member_role"),
    path("team/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("join/<str:token>/", views.join, name="join"),
    path("audit/", audit_views.audit, name="audit"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:run_id>/retry/", views.task_retry, name="task_retry"),
    path("tokens/", views.tokens, name="tokens"),
    path("notifications/", include("siyu.console.notifications")),
]
