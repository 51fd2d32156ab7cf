"""渠道活码 — channel live codes: a code per touchpoint, backed by a WeCom contact way, routing
scans among staff accounts, greeting each new friend with a welcome message and welfare,
tagging them, and counting what each channel brings and costs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.core.tenancy import WorkspaceScoped

STATE_MAX_CHARS = 30  # WECOM.md §3: a contact way's state is at most 30 characters
REMARK_MAX_CHARS = 30
MAX_ATTACHMENTS = 9  # WECOM.md §3: send_welcome_msg takes at most 9 attachments
GROUP_NAME_MAX_CHARS = 30
POSTER_HEADLINE_MAX_CHARS = 40
LINK_URL_MAX_CHARS = 600


class CodeKind(models.TextChoices):
    """What a customer scans or taps: a contact way's QR (联系我, WECOM.md §3) or an
    acquisition link (获客链接, §7) whose `customer_channel` carries the code's state."""

    CONTACT_WAY = "contact_way", _("Contact-way QR code")
    ACQUISITION_LINK = "acquisition_link", _("Acquisition link")


class Touchpoint(models.TextChoices):
    """Where a customer meets the code (seed 001's touchpoints)."""

    STORE = "store", _("Offline store")
    ONLINE_AD = "online_ad", _("Online ad")
    PARCEL_CARD = "parcel_card", _("Parcel card")
    APP = "app", _("App")
    MINI_PROGRAM = "mini_program", _("Mini-program")
    VIDEO_CHANNEL = "video_channel", _("Video channel")
    OFFLINE_EVENT = "offline_event", _("Offline event")
    PROMOTER = "promoter", _("Promoter")


class RoutingStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    WEIGHTED = "weighted", _("Weighted")
    LEAST_FILLED = "least_filled", _("Least filled")


class WelfareKind(models.TextChoices):
    COUPON = "coupon", _("Coupon code")
    GIFT = "gift", _("Gift")
    HOT_PRODUCT = "hot_product", _("Hot-product eligibility")
    KNOWLEDGE_PACK = "knowledge_pack", _("Knowledge pack")


class Welfare(WorkspaceScoped):
    """加号福利 — what a new friend gets for adding an account: one per customer per welfare
    campaign, limited by stock (a coupon's stock is its pool of unissued codes)."""

    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=16, choices=WelfareKind.choices)
    description = models.CharField(_("what the customer gets"), max_length=200, blank=True)
    link_url = models.URLField(_("link"), max_length=500, blank=True)
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)  # None: unlimited (not for coupons)
    issued = models.PositiveIntegerField(default=0)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="welfare_name_unique")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class WelfareCode(WorkspaceScoped):
    """One coupon code from an uploaded pool; issued to at most one customer."""

    welfare = models.ForeignKey(Welfare, on_delete=models.CASCADE, related_name="pool")
    code = models.CharField(max_length=64)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["welfare", "code"], name="welfare_code_unique")]
        indexes = [models.Index(fields=["welfare", "issued_at"])]


class CodeGroup(WorkspaceScoped):
    """活码分组 — a folder of channel codes (by campaign, region, …); a code is in at most one."""

    name = models.CharField(_("name"), max_length=GROUP_NAME_MAX_CHARS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="code_group_name_unique")]
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ChannelCode(WorkspaceScoped):
    """渠道活码 — a channel live code for one touchpoint, backed by a WeCom contact way whose
    `state` (unique in the brand, <= 30 chars) brings every add back to this code."""

    name = models.CharField(_("name"), max_length=REMARK_MAX_CHARS)
    touchpoint = models.CharField(_("touchpoint"), max_length=16, choices=Touchpoint.choices)
    promoter_name = models.CharField(_("promoter"), max_length=40, blank=True)
    state = models.CharField(max_length=STATE_MAX_CHARS)
    kind = models.CharField(_("kind"), max_length=20, choices=CodeKind.choices, default=CodeKind.CONTACT_WAY)
    group = models.ForeignKey(CodeGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="codes",
                              verbose_name=_("group"))
    # The last day (Asia/Shanghai) the code takes adds; the expiry job retires it after that day.
    expires_on = models.DateField(_("expires after"), null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)  # when Siyu retired it for expiry
    link_id = models.CharField(max_length=64, blank=True)  # the WeCom acquisition link
    link_url = models.URLField(max_length=LINK_URL_MAX_CHARS, blank=True)  # with customer_channel=state
    poster_headline = models.CharField(_("poster headline"), max_length=POSTER_HEADLINE_MAX_CHARS, blank=True)
    strategy = models.CharField(_("routing"), max_length=16, choices=RoutingStrategy.choices,
                                default=RoutingStrategy.ROUND_ROBIN)
    skip_verify = models.BooleanField(_("add without confirmation"), default=True)
    config_id = models.CharField(max_length=64, blank=True)  # the WeCom contact way
    qr_code_url = models.URLField(max_length=500, blank=True)
    routed_userids = models.JSONField(default=list, blank=True)  # as last set by update_contact_way
    routed_at = models.DateTimeField(null=True, blank=True)
    routing_note = models.CharField(max_length=200, blank=True)  # why the current accounts were chosen
    welcome_text = models.TextField(_("welcome message"), blank=True)
    welcome_attachments = models.JSONField(default=list, blank=True)  # <= 9: {"type": "image"|"link"|"miniprogram", ...}
    welfare = models.ForeignKey(Welfare, null=True, blank=True, on_delete=models.SET_NULL, related_name="channels",
                                verbose_name=_("add-friend welfare"))
    auto_tag_ids = models.JSONField(default=list, blank=True)  # WeCom corp tag ids applied with mark_tag
    group_chat_id = models.CharField(_("group to invite to"), max_length=64, blank=True)
    # A group live code (群活码) whose QR the welcome carries; the app above that owns group codes
    # names them (`channels.group_codes`), so this is an id, not a foreign key.
    group_code_id = models.PositiveIntegerField(_("group code"), null=True, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace", "state"], name="channel_state_unique"),
            models.UniqueConstraint(fields=["workspace", "name"], name="channel_name_unique"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_link(self) -> bool:
        return self.kind == CodeKind.ACQUISITION_LINK

    @property
    def wecom_id(self) -> str:
        """What WeCom knows the code by: its link's id or its contact way's config_id."""
        return self.link_id if self.is_link else self.config_id

    @property
    def expired(self) -> bool:
        return self.expired_at is not None


class ChannelAccount(WorkspaceScoped):
    """A staff account a code may route scans to, with its weight, shifts, daily cap, and
    whether it only takes over when the regular accounts are full or off shift."""

    code = models.ForeignKey(ChannelCode, on_delete=models.CASCADE, related_name="seats")
    account = models.ForeignKey("accounts.StaffAccount", on_delete=models.CASCADE, related_name="channel_seats")
    weight = models.PositiveSmallIntegerField(default=1)
    daily_cap = models.PositiveIntegerField(null=True, blank=True)  # adds per day through this code
    is_backup = models.BooleanField(default=False)
    # [{"weekdays": [0..6] (Monday 0), "start": "09:00", "end": "18:00"}]; empty means always
    shifts = models.JSONField(default=list, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["code", "account"], name="one_seat_per_account_per_code")]
        ordering = ["is_backup", "id"]


class ChannelSpend(WorkspaceScoped):
    """What a code cost over a period (ads, printing, promoter fees), in fen."""

    code = models.ForeignKey(ChannelCode, on_delete=models.CASCADE, related_name="spends")
    start = models.DateField()
    end = models.DateField()
    amount_fen = models.BigIntegerField()
    note = models.CharField(max_length=120, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="spend_period_ordered")]
        ordering = ["-start"]


class WelfareGrant(WorkspaceScoped):
    """One welfare issued to one customer — never twice (unique), redemption recorded."""

    welfare = models.ForeignKey(Welfare, on_delete=models.CASCADE, related_name="grants")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="welfare_grants")
    code = models.OneToOneField(WelfareCode, null=True, blank=True, on_delete=models.PROTECT, related_name="grant")
    channel = models.ForeignKey(ChannelCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="grants")
    account = models.ForeignKey("accounts.StaffAccount", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    granted_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_note = models.CharField(max_length=120, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["welfare", "customer"], name="one_welfare_per_customer")]
        indexes = [
            models.Index(fields=["workspace", "channel", "granted_at"]),
            # A welfare's grants page by page, newest first, and its redeemed count (flat as grants grow)
            models.Index(fields=["welfare", "-granted_at", "-id"], name="grant_welfare_newest"),
            models.Index(fields=["welfare", "redeemed_at"], name="grant_welfare_redeemed"),
        ]
        ordering = ["-granted_at"]


class WelcomeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")  # claimed by one worker; WeCom's answer not yet recorded
    SENT = "sent", _("Sent")
    NOT_CONFIGURED = "not_configured", _("No welcome message set")
    NO_CODE = "no_code", _("WeCom gave no welcome code")
    MISSED = "missed", _("Missed")


class WelcomeRecord(WorkspaceScoped):
    """欢迎语记录 — the welcome message of one add of a follow relation (a customer who comes
    back is a new add, with a record of its own). Opened pending when the add arrives, claimed
    pending → sending by exactly one worker, then settled once (sent, missed, …)."""

    relation = models.ForeignKey("customers.FollowRelation", on_delete=models.CASCADE, related_name="welcome_records")
    added_at = models.DateTimeField()  # the add it belongs to (FollowRelation.added_at then)
    status = models.CharField(max_length=16, choices=WelcomeStatus.choices, default=WelcomeStatus.PENDING)
    note = models.CharField(max_length=300, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [models.UniqueConstraint(fields=["relation", "added_at"], name="one_welcome_per_add")]
        indexes = [models.Index(fields=["workspace", "status", "added_at"], name="welcome_status_added")]
        ordering = ["-added_at", "-id"]
