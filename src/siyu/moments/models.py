"""客户朋友圈 — moment posts planned per persona, posted through WeCom and followed per staff."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped

MAX_TEXT_CHARS = 2000  # WECOM.md §6
MAX_IMAGES = 9


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    POSTING = "posting", _("Posting")
    POSTED = "posted", _("Posted")
    FAILED = "failed", _("Failed")


class MomentPost(WorkspaceScoped):
    """朋友圈 — one moment of a persona: text, attachments from content materials and a visible
    range (sender staff accounts and/or customer tags), posted once in WeCom by the worker."""

    persona = models.ForeignKey("ip.Persona", on_delete=models.PROTECT, related_name="+", verbose_name=_("persona"))
    planned_at = models.DateTimeField(_("planned for"))
    text = models.TextField(_("text"), blank=True)
    material_ids = models.JSONField(_("attachments"), default=list, blank=True)
    sender_ids = models.JSONField(_("senders"), default=list, blank=True)  # StaffAccount pks
    tag_ids = models.JSONField(_("customer tags"), default=list, blank=True)  # Tag pks
    status = models.CharField(_("status"), max_length=10, choices=PostStatus.choices, default=PostStatus.DRAFT)
    jobid = models.CharField(max_length=64, blank=True)
    moment_id = models.CharField(max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)  # posting: when a worker took it
    next_check_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # metrics, refreshed from WeCom (get_moment_task / send_result / comments)
    sender_count = models.PositiveIntegerField(_("senders"), default=0)
    published_count = models.PositiveIntegerField(_("published by"), default=0)
    reach_count = models.PositiveIntegerField(_("customers reached"), default=0)
    like_count = models.PositiveIntegerField(_("likes"), default=0)
    comment_count = models.PositiveIntegerField(_("comments"), default=0)
    metrics_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        indexes = [models.Index(fields=["workspace", "persona", "planned_at"]),
                   models.Index(fields=["workspace", "status", "next_check_at"])]

    def __str__(self) -> str:
        return self.text[:20] or f"#{self.pk}"


class MomentSender(WorkspaceScoped):
    """发表成员 — one staff member's side of a posted moment: published or not, and what it earned."""

    post = models.ForeignKey(MomentPost, on_delete=models.CASCADE, related_name="senders")
    userid = models.CharField(max_length=64)
    account = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    published = models.BooleanField(_("published"), default=False)
    reach_count = models.PositiveIntegerField(_("customers reached"), default=0)
    like_count = models.PositiveIntegerField(_("likes"), default=0)
    comment_count = models.PositiveIntegerField(_("comments"), default=0)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "post", "userid"], name="moments_sender_once")]
