"""内容中心"""
from django.urls import path

from siyu.content import views

app_name = "content"
urlpatterns = [
    path("", views.home, name="home"),
    path("materials/new/", views.material_new, name="material_new"),
    path("materials/<int:material_id>/", views.material_edit, name="material_edit"),
    path("materials/<int:material_id>/delete/", views.material_delete, name="material_delete"),
    path("materials/<int:material_id>/<str:which>/", views.material_file, name="material_file"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:category_id>/", views.category_change, name="category_change"),
    path("scripts/", views.scripts, name="scripts"),
    path("scripts/new/", views.script_new, name="script_new"),
    path("scripts/folders/new/", views.folder_create, name="folder_create"),
    path("scripts/<int:script_id>/", views.script_edit, name="script_edit"),
    path("scripts/<int:script_id>/delete/", views.script_delete, name="script_delete"),
    path("scripts/<int:script_id>/copied/", views.script_copied, name="script_copied"),
    path("templates/", views.templates, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/check/", views.template_check, name="template_check"),
    path("templates/<int:template_id>/", views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
    path("o/<str:token>/", views.open_link, name="open"),
]
