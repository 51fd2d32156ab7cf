"""The demo brand's content centre: a category tree, a dozen materials of several kinds, scripts
in the five scenario folders and three templates, all in 小完子's voice (ip/demo.py, seed 001).
Made through the console's services; a later start finds them and changes nothing."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from siyu.content import services
from siyu.content.models import (
    Category,
    Material,
    MaterialKind,
    MessageTemplate,
    Scenario,
    Script,
    TemplateContext,
)
from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.ip.demo import DEMO_PERSONA
from siyu.ip.models import Persona

TONE_MARKERS = ["呀", "哦", "啦", "~", "宝子", "哒", "呢", "哈"]
FORBIDDEN_WORDS = ["全网最低", "最便宜", "根治", "绝对有效", "尊敬的客户"]
TREE = {"产品": ["彩妆", "护肤"], "活动": ["双十二", "会员日"], "品牌故事": []}


def _picture(color: tuple[int, int, int], label: str, size: tuple[int, int] = (640, 640)) -> bytes:
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle([24, 24, size[0] - 24, size[1] - 24], outline=(255, 255, 255), width=6)
    draw.text((48, 48), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# a minimal MP4 header (an ftyp box) with padding: enough for the twin's media/upload
DEMO_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 2048

# (title, kind, category path, tags, fields, file bytes, cover bytes)
MATERIALS: list[tuple[str, str, str, list[str], dict[str, str], bytes | None, bytes | None]] = [
    ("新人见面礼文案", MaterialKind.TEXT, "活动", ["新人"], {"text": "宝子你好呀～送你一张满99减20的新人券，小程序商城直接用哦！"}, None, None),
    ("双十二预热文案", MaterialKind.TEXT, "活动/双十二", ["大促"], {"text": "双十二提前剧透啦～今年的宝藏清单我已经帮你整理好了哦！"}, None, None),
    ("卸妆小课堂", MaterialKind.TEXT, "产品/护肤", ["干货"], {"text": "卸妆要温柔呀～先用化妆棉敷30秒再轻轻擦，眼唇记得单独卸哦！"}, None, None),
    ("空气粉底液详情页", MaterialKind.LINK, "产品/彩妆", ["粉底", "爆款"],
     {"url": "https://shop.example.com/p/air-foundation", "description": "轻薄不卡粉，油皮亲妈"}, None, None),
    ("护肤小白入门手册", MaterialKind.LINK, "产品/护肤", ["干货", "新人"],
     {"url": "https://shop.example.com/guide/skincare-101", "description": "三步搞懂基础护肤"}, None, None),
    ("会员日活动页", MaterialKind.LINK, "活动/会员日", ["会员"],
     {"url": "https://shop.example.com/member-day", "description": "每月18号会员专享"}, None, None),
    ("小程序商城首页", MaterialKind.MINIPROGRAM, "活动", ["商城"],
     {"appid": "wx1234567890abcdef", "page": "pages/index/index"}, None, _picture((255, 120, 160), "mall")),
    ("空气粉底液产品图", MaterialKind.IMAGE, "产品/彩妆", ["粉底", "爆款"], {}, _picture((240, 200, 170), "foundation"), None),
    ("口红试色图", MaterialKind.IMAGE, "产品/彩妆", ["口红"], {}, _picture((200, 40, 80), "lipstick"), None),
    ("双十二海报", MaterialKind.POSTER, "活动/双十二", ["大促"], {}, _picture((230, 30, 60), "12.12", (640, 1136)), None),
    ("品牌故事短片", MaterialKind.VIDEO, "品牌故事", ["品牌"], {}, DEMO_VIDEO, None),
    ("成分表说明", MaterialKind.FILE, "产品/护肤", ["干货"], {}, "空气粉底液成分表\n水、环五聚二甲基硅氧烷……".encode(), None),
]

SCRIPTS: dict[str, list[tuple[str, list[str], list[str]]]] = {
    Scenario.GREETING: [
        ("新朋友打招呼", ["宝子你好呀～我是小完子，终于等到你啦！", "以后有美妆护肤的问题都可以来问我哦～"], ["新人见面礼文案"]),
        ("老朋友问候", ["好久不见呀宝子～最近皮肤状态怎么样呢？"], []),
    ],
    Scenario.PRODUCT_QA: [
        ("粉底液适合什么肤质", ["这款粉底液油皮干皮都可以哦～", "干皮记得先做好保湿呀，上妆会更服帖哒！"], ["空气粉底液详情页"]),
        ("口红会不会拔干", ["这支是滋润型的哦，薄涂厚涂都不拔干呢～"], ["口红试色图"]),
    ],
    Scenario.OBJECTION: [
        ("觉得有点贵", ["懂你呀宝子～不过这支能用小半年，算下来一天才几毛钱哦！", "现在还有新人券，到手更划算啦～"], []),
        ("担心过敏", ["这个担心很正常呀～可以先在耳后试用一下哦，我把成分表发你看看～"], ["成分表说明"]),
    ],
    Scenario.AFTER_SALE: [
        ("物流查询", ["宝子别急哦～我帮你查一下物流，稍等我一下下呀！"], []),
        ("使用回访", ["用了几天感觉怎么样呀？有任何问题随时找我哦～"], []),
    ],
    Scenario.WIN_BACK: [
        ("久未互动召回", ["宝子好久没来找我聊天啦～给你留了一份老朋友专属福利哦！"], ["会员日活动页"]),
    ],
}

TEMPLATES = [
    ("新客欢迎语", TemplateContext.WELCOME,
     "{customer_nickname}你好呀～我是{persona_name}，终于等到你啦！\n送你一份见面礼哦：{welfare}\n有任何美妆护肤的问题都可以随时问我哦～",
     ["小程序商城首页"]),
    ("双十二预热群发", TemplateContext.MASS,
     "{customer_nickname}，双十二提前剧透啦～\n{event_date}零点开抢，我帮你把宝藏清单整理好了哦！", ["双十二海报"]),
    ("社群会员日提醒", TemplateContext.GROUP,
     "{group_name}的宝子们看过来～\n{event_date}会员日，群里还有专属福利哦！", ["会员日活动页"]),
]


def _ensure_voice(workspace: Workspace) -> Persona | None:
    persona = Persona.objects.for_workspace(workspace).filter(name=DEMO_PERSONA).first()
    if persona is not None and not persona.tone_markers and not persona.forbidden_words:
        Persona.objects.for_workspace(workspace).filter(pk=persona.pk).update(
            tone_markers=TONE_MARKERS, forbidden_words=FORBIDDEN_WORDS)
        persona.refresh_from_db()
    return persona


def _ensure_categories(workspace: Workspace) -> dict[str, int]:
    paths: dict[str, int] = {}
    for top, children in TREE.items():
        found = Category.objects.for_workspace(workspace).filter(name=top, parent=None).first()
        top_category = found or services.create_category(workspace, OPERATOR, name=top)
        paths[top] = top_category.pk
        for child in children:
            found = Category.objects.for_workspace(workspace).filter(name=child, parent=top_category).first()
            paths[f"{top}/{child}"] = (found or services.create_category(
                workspace, OPERATOR, name=child, parent_id=top_category.pk)).pk
    return paths


def _ensure_materials(workspace: Workspace, categories: dict[str, int]) -> dict[str, int]:
    have = dict(Material.objects.for_workspace(workspace).values_list("title", "pk"))
    for title, kind, path, tags, fields, content, cover in MATERIALS:
        if title in have:
            continue
        extension = {MaterialKind.VIDEO: "mp4", MaterialKind.FILE: "txt"}.get(MaterialKind(kind), "png")
        saved = services.save_material(
            workspace, OPERATOR, services.MaterialInput(kind=kind, title=title, category_id=categories[path], tags=tags,
                                                        **fields),
            file=SimpleUploadedFile(f"{title}.{extension}", content) if content else None,
            cover=SimpleUploadedFile("cover.png", cover) if cover else None)
        have[title] = saved.pk
    return have


def seed(workspace: Workspace) -> None:
    persona = _ensure_voice(workspace)
    materials = _ensure_materials(workspace, _ensure_categories(workspace))
    folders = {f.scenario: f.pk for f in services.ensure_standard_folders(workspace)}
    scripts = set(Script.objects.for_workspace(workspace).values_list("title", flat=True))
    for scenario, entries in SCRIPTS.items():
        for title, texts, attached in entries:
            if title not in scripts and scenario in folders:
                steps = [{"text": t} for t in texts] + [{"material": materials[m]} for m in attached]
                services.save_script(workspace, OPERATOR, services.ScriptInput(folders[scenario], title, steps))
    templates = set(MessageTemplate.objects.for_workspace(workspace).values_list("name", flat=True))
    for name, context, text, attached in TEMPLATES:
        if name not in templates:
            services.save_template(workspace, OPERATOR, services.TemplateInput(
                name=name, persona_id=persona.pk if persona else None, context=context, text=text,
                material_ids=[materials[m] for m in attached]))
