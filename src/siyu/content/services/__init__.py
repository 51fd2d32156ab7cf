"""内容中心 services: what other apps call. Materials and their WeCom media ids, usage counts,
scripts, templates with their variable schema, and the voice check."""

from siyu.content.services.categories import (
    CategoryNode,
    category_tree,
    create_category,
    delete_category,
    move_category,
    rename_category,
)
from siyu.content.services.common import can_edit, require_edit, require_view
from siyu.content.services.materials import (
    MaterialInput,
    all_tags,
    check_file,
    delete_material,
    get_material,
    material_choices,
    material_file,
    material_query,
    record_sent,
    save_material,
    search_materials,
)
from siyu.content.services.media import REFRESH_MARGIN, forget_media, media_id_for
from siyu.content.services.scripts import (
    ScriptInput,
    ShownStep,
    create_folder,
    delete_script,
    ensure_standard_folders,
    get_script,
    list_folders,
    record_copy,
    save_script,
    search_scripts,
    shown_steps,
)
from siyu.content.services.templates import (
    VARIABLES,
    Check,
    RenderedMessage,
    TemplateInput,
    Variable,
    check_template,
    delete_template,
    get_template,
    list_templates,
    render_template,
    render_text,
    sample_values,
    save_template,
    template_choices,
    variable_errors,
    variable_schema,
    variables_in,
)
from siyu.content.services.tracking import open_link, tracked_path, tracked_url
from siyu.content.services.voice import (
    Finding,
    check_voice,
    split_sentences,
    utf8_bytes,
    voice_check,
)

__all__ = [
    "REFRESH_MARGIN", "VARIABLES", "CategoryNode", "Check", "Finding", "MaterialInput", "RenderedMessage",
    "ScriptInput", "ShownStep", "TemplateInput", "Variable", "all_tags", "can_edit", "category_tree",
    "check_file", "check_template", "check_voice", "create_category", "create_folder", "delete_category",
    "delete_material", "delete_script", "delete_template", "ensure_standard_folders", "forget_media",
    "get_material", "get_script", "get_template", "list_folders", "list_templates", "material_choices",
    "material_file", "material_query", "media_id_for", "move_category", "open_link", "record_copy", "record_sent",
    "rename_category", "render_template", "render_text", "require_edit", "require_view", "sample_values",
    "save_material", "save_script", "save_template", "search_materials", "search_scripts", "shown_steps",
    "split_sentences", "template_choices", "tracked_path", "tracked_url", "utf8_bytes", "variable_errors",
    "variable_schema", "variables_in", "voice_check",
]
