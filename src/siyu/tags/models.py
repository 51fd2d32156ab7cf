"""标签 — the brand's customer tags, kept in two-way sync with WeCom's corp tags (企业客户标签).

A tag group and its tags mirror WeCom's (`wecom_*_id`; blank until created there). A customer
carries a tag once (`CustomerTag`), whichever staff account it was marked through, because the
brand reads tags per person; WeCom keeps them per (staff, customer), so `account` says through
which follow relation it was marked there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped


class TagGroup(WorkspaceScoped):
    """标签组 — e.g. 肤质, 购买意向. `required` groups count toward tag completeness (标签完善度)."""

    wecom_group_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=30)
    order = models.PositiveIntegerField(default=0)
    required = models.BooleanField(_("required for completeness"), default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "wecom_group_id"],
                                               condition=~models.Q(wecom_group_id=""), name="tag_group_wecom_unique")]
        ordering = ["-order", "id"]

    def __str__(self) -> str:
        return self.name


class Tag(WorkspaceScoped):
    """标签 — one tag in a group."""

    group = models.ForeignKey(TagGroup, on_delete=models.CASCADE, related_name="tags")
    wecom_tag_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(_("name"), max_length=30)
    order = models.PositiveIntegerField(default=0)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "wecom_tag_id"],
                                               condition=~models.Q(wecom_tag_id=""), name="tag_wecom_unique")]
        ordering = ["-order", "id"]

    def __str__(self) -> str:
        return self.name


class TagSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    BULK = "bulk", _("Bulk")
    RULE = "rule", _("Rule")
    CHANNEL = "channel", _("Channel code")
    WECOM = "wecom", _("WeCom")


class CustomerTag(WorkspaceScoped):
    """A tag on a customer."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_links")
    account = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    source = models.CharField(max_length=8, choices=TagSource.choices, default=TagSource.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")]
        indexes = [models.Index(fields=["tag", "customer"], name="customer_tag_by_tag")]


class RuleKind(models.TextChoices):
    CHANNEL = "channel", _("By channel code")
    STAGE = "stage", _("By lifecycle stage")
    FIELD = "field", _("By custom field")
    BEHAVIOUR = "behaviour", _("Added N days ago, never engaged")


class TagRule(WorkspaceScoped):
    """自动打标签规则 — a rule that tags every customer matching one condition:

    - `channel`: `{"states": [...]}` — an active follow relation came through one of these channel
      code states (`FollowRelation.state`);
    - `stage`: `{"stages": [...]}` — `Customer.stage` is one of these;
    - `field`: `{"key": k, "op": "equals" | "contains", "value": v}` — on `Customer.fields[k]`;
    - `behaviour`: `{"days": n}` — first added at least n days ago and never engaged
      (`Customer.last_engaged_at` empty).

    Rules only add their tag (never remove it), so running one again changes nothing."""

    name = models.CharField(_("name"), max_length=60)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("condition"), max_length=10, choices=RuleKind.choices)
    params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_tagged = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def params_text(self) -> str:
        """The condition's parameters as one line, for lists."""
        return " · ".join(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
                          for key, value in self.params.items())


class TagSync(WorkspaceScoped):
    """One full sync of the brand's corp tags from WeCom (`get_corp_tag_list`), with its result."""

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    groups_seen = models.PositiveIntegerField(default=0)
    tags_seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-started_at", "-id"]
