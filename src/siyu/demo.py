"""The demo brand that `siyu demo` starts with, seeded by the installed apps' demo steps
(`SiyuApp.demo_steps`): created once, reused on every later start.

When the brand is made, the steps that need no WeCom run (the IP studio's persona). The demo
brand is then connected to the local WeCom twin, and once the twin answers, the other steps run
in the layers' order: accounts synced and dressed as 小完子, custom fields, tag groups, segments,
welfare and channel codes the twin's synthetic customers scan. Each step finds what exists,
re-creates what a restarted twin forgot, and changes nothing else.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from siyu.core import events
from siyu.core.contract import siyu_apps
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Role
from siyu.core.services import OPERATOR, WorkspaceCreated
from siyu.core.tenancy import workspace_context
from siyu.wecom import services as wecom
from siyu.wecom import wechat

logger = logging.getLogger("siyu.demo")

DEMO_SLUG = "demo"
DEMO_USERNAME = "admin"


@dataclass(frozen=True)
class DemoBrand:
    workspace: Workspace
    username: str
    password: str


def run_demo_steps(workspace: Workspace, *, after_twin: bool) -> None:
    """The installed apps' demo steps of one phase, in `INSTALLED_APPS` order."""
    with workspace_context(workspace):
        for app in siyu_apps():
            for step in app.demo_steps:
                if step.after_twin == after_twin:
                    step.run(workspace)


def _demo_password() -> str:
    path = settings.DATA_DIR / "demo_admin_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(9), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def ensure_demo_brand() -> DemoBrand:
    password = _demo_password()
    User = get_user_model()
    with transaction.atomic():
        workspace, created = Workspace.objects.get_or_create(slug=DEMO_SLUG, defaults={"name": "小完子美妆 (Demo)"})
        user, user_created = User.objects.get_or_create(username=DEMO_USERNAME)
        if user_created:
            user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        Membership.unscoped.get_or_create(workspace=workspace, user=user, defaults={"role": Role.ADMIN})
        run_demo_steps(workspace, after_twin=False)
        if created:
            events.publish(workspace, WorkspaceCreated(workspace_id=workspace.pk, slug=workspace.slug))
    return DemoBrand(workspace, DEMO_USERNAME, password)


def connect_demo_to_twin(workspace: Workspace, platform_url: str, twin_port: int) -> list[str]:
    """Point the demo brand's WeCom connection at a local twin, with secrets generated once
    and kept in the data directory; returns the `siyu twin` arguments (secrets go by env)."""
    path = settings.DATA_DIR / "demo_twin.json"
    if not path.exists():
        path.write_text(json.dumps({
            "corp_id": "wwdemo" + secrets.token_hex(5),
            "secret": secrets.token_urlsafe(24),
            "token": secrets.token_hex(8),
            "aes_key": base64.b64encode(secrets.token_bytes(32)).decode().rstrip("="),
        }), encoding="utf-8")
        path.chmod(0o600)
    corp = json.loads(path.read_text(encoding="utf-8"))
    if "mp_app_id" not in corp:  # the WeChat service account (服务号) the twin also plays
        corp |= {"mp_app_id": "wxdemo" + secrets.token_hex(5), "mp_secret": secrets.token_urlsafe(24)}
        path.write_text(json.dumps(corp), encoding="utf-8")
    wecom.configure(
        workspace, OPERATOR,
        corp_id=corp["corp_id"], agent_id="1000002", secret=corp["secret"], token=corp["token"],
        aes_key=corp["aes_key"], api_base=f"http://127.0.0.1:{twin_port}/cgi-bin/",
    )
    twin_root = f"http://127.0.0.1:{twin_port}/"
    wechat.configure_service_account(
        workspace, OPERATOR, app_id=corp["mp_app_id"], secret=corp["mp_secret"], api_base=twin_root, oauth_base=twin_root,
    )
    os.environ.update(
        SIYU_TWIN_SECRET=corp["secret"], SIYU_TWIN_TOKEN=corp["token"], SIYU_TWIN_AES_KEY=corp["aes_key"],
        SIYU_TWIN_CORP_ID=corp["corp_id"], SIYU_TWIN_MP_APP_ID=corp["mp_app_id"], SIYU_TWIN_MP_SECRET=corp["mp_secret"],
    )
    # The twin forgets everything when it stops; a new seed per start gives new customers rather
    # than the same ones coming back (which the platform would rightly count as re-adds).
    starts = settings.DATA_DIR / "demo_twin_starts"
    seed = int(starts.read_text(encoding="utf-8") or 0) + 1 if starts.exists() else 1
    starts.write_text(str(seed), encoding="utf-8")
    return [
        "--port", str(twin_port), "--population", "demo", "--seed", str(seed),
        "--callback-url", f"{platform_url}/wecom/callback/{workspace.slug}/",
    ]


def acquisition_loop_starter(workspace: Workspace, twin_url: str) -> Callable[[], None]:
    """What `siyu demo` runs in the background once its processes are started."""

    def start() -> None:
        if not wait_for_twin(twin_url):
            logger.warning("the WeCom twin at %s did not answer; the demo channels are not set up", twin_url)
            return
        try:
            run_demo_steps(workspace, after_twin=True)
        except Exception:
            logger.exception("seeding the demo brand failed")

    return start


def wait_for_twin(twin_url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{twin_url}/twin/state", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False
