"""The demo brand that `siyu demo` starts with: created once, reused on every later start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from siyu.core import events
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Role
from siyu.core.services import WorkspaceCreated

DEMO_SLUG = "demo"
DEMO_USERNAME = "admin"


@dataclass(frozen=True)
class DemoBrand:
    workspace: Workspace
    username: str
    password: str


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
        if created:
            events.publish(workspace, WorkspaceCreated(workspace_id=workspace.pk, slug=workspace.slug))
    return DemoBrand(workspace, DEMO_USERNAME, password)
