"""The demo brand's staff accounts: the twin's 小完子01–04, synced and dressed as the demo persona."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.accounts import services as accounts
from siyu.accounts.models import Grouping, StaffAccount
from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.ip.demo import DEMO_PERSONA, draw_avatar
from siyu.ip.models import Persona


def prepare_accounts(workspace: Workspace) -> None:
    accounts.sync_accounts(workspace, OPERATOR)
    _dress_accounts(workspace, Persona.objects.filter(name=DEMO_PERSONA).first())


def demo_accounts() -> dict[str, StaffAccount]:
    """The active demo accounts by suffix ("01" … "04")."""
    return {a.name.removeprefix(DEMO_PERSONA): a
            for a in StaffAccount.objects.filter(name__startswith=DEMO_PERSONA, active=True)}


def _dress_accounts(workspace: Workspace, persona: Persona | None) -> None:
    """The twin's 小完子01–04 embody the demo persona, with the profile kit mostly right (03's
    signature is left stale, so the kit check has something to show)."""
    for suffix, account in demo_accounts().items():
        if account.persona_id or persona is None:
            continue
        accounts.save_account(
            workspace, OPERATOR, account.pk,
            accounts.AccountInput(
                persona_id=persona.pk, grouping=Grouping.BRAND_LINE, group_name="小完子美妆",
                friend_limit=account.friend_limit, moments_cover="粉色系美妆桌面实拍，带品牌slogan",
                signature="每天分享一个变美小技巧" if suffix == "03" else persona.slogan,
                greeting=f"你好呀，我是{persona.name}，你的专属美妆顾问～",
            ),
            kit_avatar=SimpleUploadedFile("avatar.png", draw_avatar(), content_type="image/png"),
        )
