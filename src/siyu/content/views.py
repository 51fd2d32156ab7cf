"""内容中心 console pages. Thin: parse the form, call `content.services`, render; the services
check roles. The link-open redirect is the one public view (no sign-in: customers open it)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from siyu.content import services
from siyu.content.forms import CategoryForm, FolderForm, MaterialForm, ScriptForm, TemplateForm
from siyu.content.models import Material, MaterialKind, TemplateContext
from siyu.core import bounds
from siyu.ip.models import Persona
from siyu.web import MemberRequest, apply_errors, member_page, private_file


def _ctx(request: MemberRequest) -> tuple[Any, Any]:
    return request.workspace, request.membership


def _int(value: str | None) -> int | None:
    return bounds.parse_id(value) if value else None


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), bounds.MAX_PAGE))
    except ValueError:
        return 1


# --- materials ---------------------------------------------------------------------------------

@member_page
def home(request: MemberRequest) -> HttpResponse:
    """素材库: the category tree, the filters and a page of materials."""
    workspace, seat = _ctx(request)
    tree = services.category_tree(workspace, seat)
    kind = request.GET.get("kind", "")
    kind = kind if kind in MaterialKind.values else ""
    category_id = _int(request.GET.get("category"))
    if category_id is not None and not any(n.category.pk == category_id for n in tree):
        category_id = None
    q, tag = request.GET.get("q", "")[:100], request.GET.get("tag", "")[:20]
    page = services.search_materials(workspace, seat, q=q, kind=kind, category_id=category_id, tag=tag,
                                     page=_page_number(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "content/home.html", {
        "tab": "materials", "tree": tree, "page": page, "kinds": MaterialKind.choices, "kind": kind,
        "category_id": category_id, "q": q, "tag": tag, "tags": services.all_tags(workspace, seat),
        "query": query.urlencode(), "can_edit": services.can_edit(seat),
        "category_form": CategoryForm(categories=tree),
    })


def _material_page(request: MemberRequest, material: Material | None) -> HttpResponse:
    workspace, seat = _ctx(request)
    services.require_edit(seat)
    tree = services.category_tree(workspace, seat)
    if request.method == "POST":
        form = MaterialForm(request.POST, request.FILES, categories=tree)
        if form.is_valid():
            try:
                saved = services.save_material(workspace, seat, form.to_input(), file=request.FILES.get("file"),
                                               cover=request.FILES.get("cover"),
                                               material_id=material.pk if material else None)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Material “%(title)s” saved.") % {"title": saved.title})
                return redirect("content:home")
    else:
        initial = MaterialForm.initial_from(material) if material else {"kind": request.GET.get("kind", "text")}
        form = MaterialForm(initial=initial, categories=tree)
    tracked = ""
    if material is not None and material.kind == MaterialKind.LINK:
        tracked = request.build_absolute_uri(services.tracked_path(material))
    return render(request, "content/material_form.html", {"form": form, "material": material, "tracked": tracked})


@member_page
def material_new(request: MemberRequest) -> HttpResponse:
    return _material_page(request, None)


@member_page
def material_edit(request: MemberRequest, material_id: int) -> HttpResponse:
    return _material_page(request, services.get_material(*_ctx(request), material_id))


@member_page
@require_POST
def material_delete(request: MemberRequest, material_id: int) -> HttpResponse:
    material = services.get_material(*_ctx(request), material_id)
    services.delete_material(*_ctx(request), material.pk)
    messages.success(request, _("Material “%(title)s” deleted.") % {"title": material.title})
    return redirect("content:home")


@member_page
def material_file(request: MemberRequest, material_id: int, which: str) -> FileResponse:
    handle, content_type = services.material_file(*_ctx(request), material_id, which)
    return private_file(handle, content_type)


@member_page
@require_POST
def category_create(request: MemberRequest) -> HttpResponse:
    workspace, seat = _ctx(request)
    form = CategoryForm(request.POST, categories=services.category_tree(workspace, seat))
    if form.is_valid():
        try:
            services.create_category(workspace, seat, name=form.cleaned_data["name"],
                                     parent_id=form.cleaned_data["parent"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose a category of this brand."))
    return redirect("content:home")


@member_page
@require_POST
def category_change(request: MemberRequest, category_id: int) -> HttpResponse:
    """Rename, move or delete one category (the tree's inline forms)."""
    workspace, seat = _ctx(request)
    action = request.POST.get("action", "")
    try:
        if action == "rename":
            services.rename_category(workspace, seat, category_id, name=request.POST.get("name", ""))
        elif action == "move":
            services.move_category(workspace, seat, category_id, parent_id=_int(request.POST.get("parent")))
        elif action == "delete":
            services.delete_category(workspace, seat, category_id, confirm=request.POST.get("confirm") == "1")
        else:
            raise ValidationError(_("Choose what to do with the category."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("content:home")


# --- scripts -----------------------------------------------------------------------------------

@member_page
def scripts(request: MemberRequest) -> HttpResponse:
    """话术库: scenario folders and their scripts, each step with a copy button."""
    workspace, seat = _ctx(request)
    folders = services.list_folders(workspace, seat)
    folder_id = _int(request.GET.get("folder"))
    q = request.GET.get("q", "")[:100]
    found = services.search_scripts(workspace, seat, q=q, folder_id=folder_id)
    steps = services.shown_steps(workspace, found)
    return render(request, "content/scripts.html", {
        "tab": "scripts", "folders": folders, "folder_id": folder_id, "q": q,
        "rows": [(s, steps[s.pk]) for s in found], "can_edit": services.can_edit(seat), "folder_form": FolderForm(),
    })


def _script_page(request: MemberRequest, script: Any) -> HttpResponse:
    workspace, seat = _ctx(request)
    services.require_edit(seat)
    folders = services.list_folders(workspace, seat)
    materials = services.material_choices(workspace, seat)
    if request.method == "POST":
        form = ScriptForm(request.POST, folders=folders, materials=materials)
        if form.is_valid():
            try:
                saved = services.save_script(workspace, seat, form.to_input(), script.pk if script else None)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Script “%(title)s” saved.") % {"title": saved.title})
                return redirect("content:scripts")
    else:
        initial = ScriptForm.initial_from(script) if script else {"folder": _int(request.GET.get("folder"))}
        form = ScriptForm(initial=initial, folders=folders, materials=materials)
    return render(request, "content/script_form.html", {"form": form, "script": script})


@member_page
def script_new(request: MemberRequest) -> HttpResponse:
    return _script_page(request, None)


@member_page
def script_edit(request: MemberRequest, script_id: int) -> HttpResponse:
    return _script_page(request, services.get_script(*_ctx(request), script_id))


@member_page
@require_POST
def script_delete(request: MemberRequest, script_id: int) -> HttpResponse:
    script = services.get_script(*_ctx(request), script_id)
    services.delete_script(*_ctx(request), script.pk)
    messages.success(request, _("Script “%(title)s” deleted.") % {"title": script.title})
    return redirect("content:scripts")


@member_page
@require_POST
def script_copied(request: MemberRequest, script_id: int) -> HttpResponse:
    """The copy button's count (HTMX, nothing to swap)."""
    count = services.record_copy(*_ctx(request), script_id)
    return HttpResponse(str(count), content_type="text/plain")


@member_page
@require_POST
def folder_create(request: MemberRequest) -> HttpResponse:
    form = FolderForm(request.POST)
    form.is_valid()
    try:
        services.create_folder(*_ctx(request), name=form.cleaned_data.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("content:scripts")


# --- templates ---------------------------------------------------------------------------------

@member_page
def templates(request: MemberRequest) -> HttpResponse:
    workspace, seat = _ctx(request)
    context = request.GET.get("context", "")
    context = context if context in TemplateContext.values else ""
    q = request.GET.get("q", "")[:100]
    return render(request, "content/templates.html", {
        "tab": "templates", "rows": services.list_templates(workspace, seat, q=q, context=context),
        "contexts": TemplateContext.choices, "context": context, "q": q, "can_edit": services.can_edit(seat),
    })


def _template_page(request: MemberRequest, template: Any) -> HttpResponse:
    workspace, seat = _ctx(request)
    services.require_edit(seat)
    personas = list(Persona.objects.for_workspace(workspace).order_by("name"))
    materials = services.material_choices(workspace, seat)
    if request.method == "POST":
        form = TemplateForm(request.POST, personas=personas, materials=materials)
        if form.is_valid():
            try:
                saved = services.save_template(workspace, seat, form.to_input(), template.pk if template else None)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
                return redirect("content:templates")
    else:
        initial = TemplateForm.initial_from(template) if template else {
            "persona": personas[0].pk if personas else None, "context": TemplateContext.MASS}
        form = TemplateForm(initial=initial, personas=personas, materials=materials)
    return render(request, "content/template_form.html", {
        "form": form, "template": template, "variables": services.variable_schema(),
        "contexts": dict(TemplateContext.choices),
    })


@member_page
def template_new(request: MemberRequest) -> HttpResponse:
    return _template_page(request, None)


@member_page
def template_edit(request: MemberRequest, template_id: int) -> HttpResponse:
    return _template_page(request, services.get_template(*_ctx(request), template_id))


@member_page
@require_POST
def template_delete(request: MemberRequest, template_id: int) -> HttpResponse:
    template = services.get_template(*_ctx(request), template_id)
    services.delete_template(*_ctx(request), template.pk)
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
    return redirect("content:templates")


@member_page
@require_POST
def template_check(request: MemberRequest) -> HttpResponse:
    """The form's live voice check (HTMX, debounced as staff type)."""
    workspace, seat = _ctx(request)
    data = services.TemplateInput(
        persona_id=_int(request.POST.get("persona")), context=request.POST.get("context", ""),
        text=request.POST.get("text", "")[:20000],
        material_ids=[i for i in (_int(v) for v in request.POST.getlist("material_ids")) if i is not None])
    check = services.check_template(workspace, seat, data)
    return render(request, "content/_voice_check.html", {
        "check": check, "bytes": services.utf8_bytes(data.text), "attachments": len(data.material_ids)})


# --- the public link-open redirect -------------------------------------------------------------

@never_cache
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    """A customer opened a tracked link: count it and send them on (302). No sign-in; a bad or
    forged token is a 404."""
    try:
        url = services.open_link(token)
    except Material.DoesNotExist as exc:
        raise Http404 from exc
    return HttpResponseRedirect(url)
