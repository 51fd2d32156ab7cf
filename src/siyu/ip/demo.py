"""The demo brand's IP: the perfect-user persona 小完子 (seed 001) and a filled-in self-portrait.
Created once; later starts find them and change nothing."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.ip import services
from siyu.ip.models import (
    AgeBand,
    Archetype,
    BrandPortrait,
    Gender,
    Generation,
    MatrixLevel,
    Persona,
    ShoppingPlatform,
    SocialApp,
    SpendingPower,
    Zodiac,
)

DEMO_PERSONA = "小完子"


def draw_avatar(size: int = 256) -> bytes:
    """A cartoon girl's face on a pink ground, drawn at run time so no binary is committed."""
    image = Image.new("RGB", (size, size), (255, 214, 226))
    d = ImageDraw.Draw(image)
    s = size / 256
    d.ellipse([48 * s, 40 * s, 208 * s, 230 * s], fill=(70, 45, 40))  # hair
    d.ellipse([68 * s, 70 * s, 188 * s, 200 * s], fill=(255, 228, 210))  # face
    d.chord([60 * s, 50 * s, 196 * s, 140 * s], 180, 360, fill=(70, 45, 40))  # fringe
    for x in (100, 156):
        d.ellipse([(x - 8) * s, 122 * s, (x + 8) * s, 140 * s], fill=(40, 30, 30))  # eyes
        d.ellipse([(x - 22) * s, 148 * s, (x - 6) * s, 158 * s], fill=(255, 170, 180))  # blush
    d.arc([108 * s, 150 * s, 148 * s, 178 * s], 20, 160, fill=(200, 60, 90), width=max(2, int(4 * s)))  # smile
    d.ellipse([176 * s, 60 * s, 204 * s, 88 * s], fill=(255, 105, 150))  # hair clip
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def ensure_demo_ip(workspace: Workspace) -> Persona:
    existing = Persona.objects.for_workspace(workspace).filter(name=DEMO_PERSONA).first()
    if existing is None:
        existing = services.save_persona(
            workspace, OPERATOR,
            services.PersonaInput(
                name=DEMO_PERSONA, gender=Gender.FEMALE, company_role="品牌体验官",
                generation=Generation.BORN_95S, value_offered="分享真实好用的美妆护肤心得和专属福利",
                slogan="精致不贵，每天都要美美哒 ✨",
                social_identity="爱分享的美妆博主，刚工作三年的都市女孩",
                tone="亲切、元气，像闺蜜一样聊天，真实自拍不端着",
                catchphrases=["宝子们看过来～", "亲测好用才推荐！", "今天也要美美哒"],
                interests=["美妆", "护肤", "穿搭", "旅行", "拍照"],
                zodiac=Zodiac.GEMINI,
                story="大学时在宿舍里给室友化妆，从此爱上彩妆。现在白天上班，晚上研究新品，"
                      "把踩过的坑和真正好用的宝藏分享给姐妹们。",
                archetype=Archetype.PERFECT_USER, level=MatrixLevel.MAIN,
            ),
            avatar=SimpleUploadedFile("xiaowanzi.png", draw_avatar(), content_type="image/png"),
        )
    if not BrandPortrait.objects.for_workspace(workspace).exists():
        services.save_portrait(workspace, OPERATOR, services.PortraitInput(
            female_share=85, age_bands=[AgeBand.FROM_18, AgeBand.FROM_25],
            occupations=["大学生", "职场新人", "白领"], regions=["一线城市", "新一线城市"],
            spending_power=SpendingPower.MEDIUM,
            spending_preferences="追求高性价比和高颜值，爱尝新品，看测评和博主推荐再下单",
            competitors="国际大牌的平价线；其他国货彩妆品牌",
            differentiation="大牌品质、平价价格，设计更懂年轻女孩，上新快",
            social_apps=[SocialApp.XIAOHONGSHU, SocialApp.WEIBO, SocialApp.DOUYIN, SocialApp.BILIBILI, SocialApp.WECHAT],
            shopping_platforms=[ShoppingPlatform.TAOBAO, ShoppingPlatform.DOUYIN, ShoppingPlatform.MINI_PROGRAM],
            interest_tags=["美妆", "穿搭", "追剧", "旅行"],
            staff_impressions="年轻、有活力、敢尝试",
            ideal_endorser="朝气、亲和的年轻女演员",
            future_positioning="精致年轻女孩必备美妆",
            reviews="颜色超正，黄皮也能驾驭！\n包装好看，送朋友很有面子\n持妆一般，但价格真的很香",
        ))
    return existing
