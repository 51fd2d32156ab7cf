"""内容中心 API: materials (multipart, for their files), categories, scripts, templates, the
variable schema, the voice check and rendering; scoped to the caller's workspace, thin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from siyu.content import services
from siyu.content.models import (
    Category,
    Material,
    MaterialKind,
    MessageTemplate,
    Script,
    ScriptFolder,
)
from siyu.web import MemberRequest, NumberedPages

router = Router(tags=["content"])


def _ctx(request: MemberRequest) -> tuple[Any, Any]:
    return request.workspace, request.membership


# --- materials ---------------------------------------------------------------------------------

class MaterialIn(Schema):
    kind: str = MaterialKind.TEXT
    title: str = ""
    category_id: int | None = None
    tags: str = ""  # separated by commas (a multipart form field)
    text: str = ""
    description: str = ""
    url: str = ""
    appid: str = ""
    page: str = ""

    def to_input(self) -> services.MaterialInput:
        return services.MaterialInput(
            kind=self.kind, title=self.title, category_id=self.category_id,
            tags=[t.strip() for t in self.tags.replace("，", ",").split(",") if t.strip()], text=self.text,
            description=self.description, url=self.url, appid=self.appid, page=self.page)


class MaterialOut(Schema):
    id: int
    kind: str
    title: str
    category_id: int | None
    tags: list[str]
    text: str
    description: str
    url: str
    appid: str
    page: str
    file_name: str
    file_size: int
    has_cover: bool
    sent_count: int
    open_count: int
    tracked_path: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_has_cover(obj: Material) -> bool:
        return bool(obj.cover)

    @staticmethod
    def resolve_tracked_path(obj: Material) -> str | None:
        return services.tracked_path(obj) if obj.kind == MaterialKind.LINK else None


@router.get("/materials", response=list[MaterialOut])
@paginate(NumberedPages)
def materials(request: MemberRequest, q: str = "", kind: str = "", category: int | None = None,
              tag: str = "") -> Any:
    """The brand's materials, newest first; filter by text, kind, category (with its
    subcategories) and tag."""
    return services.material_query(*_ctx(request), q=q, kind=kind, category_id=category, tag=tag)


@router.post("/materials", response={201: MaterialOut})
def material_create(request: MemberRequest, body: Form[MaterialIn], file: File[UploadedFile | None] = None,
                    cover: File[UploadedFile | None] = None) -> Status[Material]:
    """A material (multipart/form-data): an image, poster, video or file needs `file`; a
    mini-program card needs `cover`."""
    return Status(201, services.save_material(*_ctx(request), body.to_input(), file=file, cover=cover))


@router.get("/materials/{material_id}", response=MaterialOut)
def material(request: MemberRequest, material_id: int) -> Material:
    return services.get_material(*_ctx(request), material_id)


@router.post("/materials/{material_id}", response=MaterialOut)
def material_update(request: MemberRequest, material_id: int, body: Form[MaterialIn],
                    file: File[UploadedFile | None] = None, cover: File[UploadedFile | None] = None) -> Material:
    """Change a material (multipart/form-data); send `file` or `cover` only to replace them."""
    return services.save_material(*_ctx(request), body.to_input(), file=file, cover=cover, material_id=material_id)


@router.delete("/materials/{material_id}", response={204: None})
def material_delete(request: MemberRequest, material_id: int) -> Status[None]:
    services.delete_material(*_ctx(request), material_id)
    return Status(204, None)


# --- categories --------------------------------------------------------------------------------

class CategoryIn(Schema):
    name: str
    parent_id: int | None = None


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    depth: int
    material_count: int


def _node_out(node: services.CategoryNode) -> dict[str, Any]:
    c = node.category
    return {"id": c.pk, "name": c.name, "parent_id": c.parent_id, "depth": node.depth,
            "material_count": node.material_count}


@router.get("/categories", response=list[CategoryOut])
def categories(request: MemberRequest) -> list[dict[str, Any]]:
    """The category tree, parents before their children."""
    return [_node_out(n) for n in services.category_tree(*_ctx(request))]


@router.post("/categories", response={201: CategoryOut})
def category_create(request: MemberRequest, body: CategoryIn) -> Status[dict[str, Any]]:
    c = services.create_category(*_ctx(request), name=body.name, parent_id=body.parent_id)
    return Status(201, {"id": c.pk, "name": c.name, "parent_id": c.parent_id, "depth": 0, "material_count": 0})


@router.put("/categories/{category_id}", response=CategoryOut)
def category_update(request: MemberRequest, category_id: int, body: CategoryIn) -> dict[str, Any]:
    """Rename and/or move a category (never under itself)."""
    workspace, seat = _ctx(request)
    services.require_edit(seat)
    current = Category.objects.for_workspace(workspace).get(pk=category_id)
    if current.parent_id != body.parent_id:
        services.move_category(workspace, seat, category_id, parent_id=body.parent_id)
    if current.name != body.name:
        services.rename_category(workspace, seat, category_id, name=body.name)
    return next(_node_out(n) for n in services.category_tree(workspace, seat) if n.category.pk == category_id)


@router.delete("/categories/{category_id}", response={204: None})
def category_delete(request: MemberRequest, category_id: int, confirm: bool = False) -> Status[None]:
    """Delete an empty category; with `confirm=true` one with contents, which move up a level."""
    services.delete_category(*_ctx(request), category_id, confirm=confirm)
    return Status(204, None)


# --- scripts -----------------------------------------------------------------------------------

class FolderIn(Schema):
    name: str


class FolderOut(Schema):
    id: int
    name: str
    scenario: str


class ScriptIn(Schema):
    folder_id: int
    title: str
    steps: list[dict[str, Any]]  # each {"text": "..."} or {"material": id}


class ScriptOut(Schema):
    id: int
    folder_id: int
    title: str
    steps: list[dict[str, Any]]
    copy_count: int
    updated_at: dt.datetime


class CopiedOut(Schema):
    copy_count: int


@router.get("/scripts/folders", response=list[FolderOut])
def folders(request: MemberRequest) -> list[ScriptFolder]:
    return services.list_folders(*_ctx(request))


@router.post("/scripts/folders", response={201: FolderOut})
def folder_create(request: MemberRequest, body: FolderIn) -> Status[ScriptFolder]:
    return Status(201, services.create_folder(*_ctx(request), name=body.name))


@router.get("/scripts", response=list[ScriptOut])
def scripts(request: MemberRequest, q: str = "", folder: int | None = None) -> list[Script]:
    return services.search_scripts(*_ctx(request), q=q, folder_id=folder)


@router.post("/scripts", response={201: ScriptOut})
def script_create(request: MemberRequest, body: ScriptIn) -> Status[Script]:
    return Status(201, services.save_script(*_ctx(request), services.ScriptInput(body.folder_id, body.title,
                                                                                 body.steps)))


@router.put("/scripts/{script_id}", response=ScriptOut)
def script_update(request: MemberRequest, script_id: int, body: ScriptIn) -> Script:
    return services.save_script(*_ctx(request), services.ScriptInput(body.folder_id, body.title, body.steps),
                                script_id)


@router.delete("/scripts/{script_id}", response={204: None})
def script_delete(request: MemberRequest, script_id: int) -> Status[None]:
    services.delete_script(*_ctx(request), script_id)
    return Status(204, None)


@router.post("/scripts/{script_id}/copied", response=CopiedOut)
def script_copied(request: MemberRequest, script_id: int) -> dict[str, int]:
    """Count one copy of the script (a chat sidebar calls this when staff copy a step)."""
    return {"copy_count": services.record_copy(*_ctx(request), script_id)}


# --- templates ---------------------------------------------------------------------------------

class TemplateIn(Schema):
    name: str
    persona_id: int | None = None
    context: str = "mass"
    text: str = ""
    material_ids: list[int] = []

    def to_input(self) -> services.TemplateInput:
        return services.TemplateInput(self.name, self.persona_id, self.context, self.text, self.material_ids)


class TemplateOut(Schema):
    id: int
    name: str
    persona_id: int | None
    context: str
    text: str
    material_ids: list[int]
    updated_at: dt.datetime


class CheckIn(Schema):
    persona_id: int | None = None
    context: str = "mass"
    text: str = ""
    material_ids: list[int] = []


class FindingOut(Schema):
    level: str
    code: str
    message: str
    sentence: str
    word: str


class CheckOut(Schema):
    findings: list[FindingOut]
    variable_errors: list[str]
    errors: list[str]


class RenderIn(Schema):
    values: dict[str, str | int]


class RenderOut(Schema):
    text: str
    material_ids: list[int]


class VariableOut(Schema):
    name: str
    description: str
    sample: str
    contexts: list[str]


@router.get("/templates", response=list[TemplateOut])
def templates(request: MemberRequest, q: str = "", context: str = "") -> list[MessageTemplate]:
    return services.list_templates(*_ctx(request), q=q, context=context)


@router.post("/templates", response={201: TemplateOut})
def template_create(request: MemberRequest, body: TemplateIn) -> Status[MessageTemplate]:
    """A template; unknown or unavailable variables, forbidden words and WeCom's limits are a 422."""
    return Status(201, services.save_template(*_ctx(request), body.to_input()))


@router.get("/variables", response=list[VariableOut])
def variables(request: MemberRequest, context: str = "") -> list[dict[str, Any]]:
    """The variable schema: each variable, a sample value and the contexts where it exists."""
    services.require_view(request.membership)
    return [{"name": v.name, "description": str(v.description), "sample": v.sample, "contexts": sorted(v.contexts)}
            for v in services.variable_schema(context or None)]


@router.post("/templates/check", response=CheckOut)
def template_check(request: MemberRequest, body: CheckIn) -> dict[str, Any]:
    """The voice check of a draft, without saving it."""
    check = services.check_template(*_ctx(request), services.TemplateInput(
        persona_id=body.persona_id, context=body.context, text=body.text, material_ids=body.material_ids))
    return {"findings": [f.__dict__ for f in check.findings], "variable_errors": check.variable_errors,
            "errors": check.errors}


@router.get("/templates/{template_id}", response=TemplateOut)
def template(request: MemberRequest, template_id: int) -> MessageTemplate:
    return services.get_template(*_ctx(request), template_id)


@router.put("/templates/{template_id}", response=TemplateOut)
def template_update(request: MemberRequest, template_id: int, body: TemplateIn) -> MessageTemplate:
    return services.save_template(*_ctx(request), body.to_input(), template_id)


@router.delete("/templates/{template_id}", response={204: None})
def template_delete(request: MemberRequest, template_id: int) -> Status[None]:
    services.delete_template(*_ctx(request), template_id)
    return Status(204, None)


@router.post("/templates/{template_id}/render", response=RenderOut)
def template_render(request: MemberRequest, template_id: int, body: RenderIn) -> dict[str, Any]:
    """The text with `values` filled (422 naming any variable without a value)."""
    found = services.get_template(*_ctx(request), template_id)
    rendered = services.render_template(found, dict(body.values))
    return {"text": rendered.text, "material_ids": [m.pk for m in rendered.materials]}
