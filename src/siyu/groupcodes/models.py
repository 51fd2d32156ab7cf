"""群活码 — group live codes: a WeCom join way (加入群聊, WECOM.md §4) whose groups Siyu rotates by
live member counts, the chain of group generations it went through, and its group welcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import WorkspaceScoped

# WECOM.md §4: remark and state <= 30 characters, room_base_name <= 40, 1 to 5 groups per join way.
REMARK_MAX_CHARS = 30
STATE_MAX_CHARS = 30
ROOM_BASE_NAME_MAX_CHARS = 40
MAX_BOUND_GROUPS = 5
# WECOM.md §4 [sdk]: past 200 members a group's QR stops letting people in; 500 is full.
WECOM_QR_CAP = 200
WECOM_GROUP_MAX = 500
SCENE_QR = 2  # join way scene: 1 mini-program, 2 QR code


class CodeStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("group code", "Taking joins")
    WAITING = "waiting", _("Waiting for WeCom's next group")  # every bound group closed, auto-create on
    EXHAUSTED = "exhausted", _("Every group is closed to QR joins")  # and auto-create off
    EXPIRED = "expired", pgettext_lazy("group code", "Expired")


class WelcomeKind(models.TextChoices):
    NONE = "", _("Text only")
    IMAGE = "image", pgettext_lazy("attachment", "Image")
    LINK = "link", pgettext_lazy("attachment", "Link")
    MINIPROGRAM = "miniprogram", pgettext_lazy("attachment", "Mini-program")


class GroupCode(WorkspaceScoped):
    """群活码 — one group live code: its join way at WeCom (config_id, QR, `state`), the groups bound
    to it now (<= 5), the caps that rotate them, and its group welcome template (入群欢迎语)."""

    name = models.CharField(_("name"), max_length=60)
    persona = models.ForeignKey("ip.Persona", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("persona"))
    remark = models.CharField(_("remark at WeCom"), max_length=REMARK_MAX_CHARS, blank=True)
    scene = models.PositiveSmallIntegerField(default=SCENE_QR)
    state = models.CharField(max_length=STATE_MAX_CHARS)
    config_id = models.CharField(max_length=64, blank=True)
    qr_code_url = models.URLField(max_length=500, blank=True)
    auto_create_room = models.BooleanField(_("WeCom opens the next group"), default=True)
    room_base_name = models.CharField(_("new groups' name"), max_length=ROOM_BASE_NAME_MAX_CHARS, blank=True)
    room_base_id = models.PositiveIntegerField(_("first number"), default=1)
    chat_ids = models.JSONField(default=list, blank=True)  # bound now, as last set at WeCom (<= 5)
    qr_cap = models.PositiveIntegerField(_("stop QR joins at"), default=WECOM_QR_CAP)
    full_at = models.PositiveIntegerField(_("full at"), default=WECOM_GROUP_MAX)
    status = models.CharField(max_length=10, choices=CodeStatus.choices, default=CodeStatus.ACTIVE)
    expires_on = models.DateField(_("expires after"), null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    welcome_text = models.TextField(_("group welcome"), blank=True)
    welcome_kind = models.CharField(_("attachment"), max_length=12, choices=WelcomeKind.choices, blank=True,
                                    default=WelcomeKind.NONE)
    welcome_attachment = models.JSONField(default=dict, blank=True)  # the kind's fields, WeCom's names
    welcome_notify = models.BooleanField(_("tell group owners"), default=True)
    welcome_template_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "state"], name="groupcodes_state_unique")]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return self.name


class LinkOrigin(models.TextChoices):
    BOUND = "bound", _("Bound by staff")
    CREATED = "created", _("Opened by WeCom")


class GroupCodeLink(WorkspaceScoped):
    """群代际 — one group in a code's chain: generation 1, 2, 3… each the child of the one before,
    from being bound (or opened by WeCom's auto_create_room) to being unbound at the QR cap."""

    code = models.ForeignKey(GroupCode, on_delete=models.CASCADE, related_name="links")
    chat_id = models.CharField(max_length=64)
    generation = models.PositiveIntegerField()
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    origin = models.CharField(max_length=8, choices=LinkOrigin.choices, default=LinkOrigin.BOUND)
    bound = models.BooleanField(default=True)
    linked_at = models.DateTimeField(auto_now_add=True)
    unbound_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # reached the code's QR cap
    full_since = models.DateTimeField(null=True, blank=True)  # reached the code's full size

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["code", "generation"], name="groupcodes_generation_unique"),
            models.UniqueConstraint(fields=["code", "chat_id"], name="groupcodes_link_chat_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "chat_id"])]
        ordering = ["generation"]
