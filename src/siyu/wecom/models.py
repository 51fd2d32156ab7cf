"""The WeCom connector's records: per-brand connection settings (secrets encrypted), the
callback inbox, and every outbound API call."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.secrets import decrypt_secret, encrypt_secret
from siyu.core.tenancy import WorkspaceScoped

WECOM_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"
WECHAT_API_BASE = "https://api.weixin.qq.com/"
WECHAT_OAUTH_BASE = "https://open.weixin.qq.com/"


class WeComConnection(WorkspaceScoped):
    """企业微信连接 — how one brand talks to its WeCom corp (or to the WeCom twin)."""

    corp_id = models.CharField(_("corp ID"), max_length=64)
    agent_id = models.CharField(_("agent ID"), max_length=32)
    secret_encrypted = models.TextField()
    token_encrypted = models.TextField()
    aes_key_encrypted = models.TextField()
    api_base = models.URLField(_("API base URL"), default=WECOM_API_BASE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="one_wecom_connection_per_workspace")
        ]

    @property
    def secret(self) -> str:
        return decrypt_secret(self.secret_encrypted)

    @property
    def token(self) -> str:
        return decrypt_secret(self.token_encrypted)

    @property
    def aes_key(self) -> str:
        return decrypt_secret(self.aes_key_encrypted)

    def set_secrets(self, *, secret: str, token: str, aes_key: str) -> None:
        self.secret_encrypted = encrypt_secret(secret)
        self.token_encrypted = encrypt_secret(token)
        self.aes_key_encrypted = encrypt_secret(aes_key)


class ServiceAccount(WorkspaceScoped):
    """服务号 — the brand's WeChat service account (WeChat, not WeCom), whose web OAuth tells
    who a fan is on their phone and whose template messages (模板消息) notify them
    (WECOM.md §10). The WeChat twin stands in for it when `api_base` points at the twin."""

    app_id = models.CharField(_("AppID"), max_length=64)
    secret_encrypted = models.TextField()
    api_base = models.URLField(_("WeChat API base URL"), default=WECHAT_API_BASE)
    oauth_base = models.URLField(_("WeChat OAuth base URL"), default=WECHAT_OAUTH_BASE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="one_service_account_per_workspace")
        ]

    @property
    def secret(self) -> str:
        return decrypt_secret(self.secret_encrypted)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = encrypt_secret(secret)


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    UNKNOWN = "unknown", _("Unknown kind")
    FAILED = "failed", _("Failed")


class InboundEvent(WorkspaceScoped):
    """回调事件 — one callback from WeCom, stored before it is acknowledged (the inbox).

    `dedupe_key` is unique per brand, so WeCom's retries of the same event are acknowledged
    and dropped (WECOM.md §2)."""

    dedupe_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=80, db_index=True)
    raw_xml = models.TextField()
    parsed = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta(WorkspaceScoped.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "dedupe_key"], name="inbound_dedupe_per_workspace"
            )
        ]
        indexes = [models.Index(fields=["workspace", "status", "received_at"])]
        ordering = ["-received_at", "-id"]


class CallbackRejection(WorkspaceScoped):
    """A callback refused with 4xx (bad signature, wrong receive id, malformed body, ...).

    Not every refusal gets a row: a flood of forged callbacks is recorded a few rows a minute per
    source, and the refusals beyond are counted in the last row's `suppressed` (`wecom.rejections`)."""

    reason = models.CharField(max_length=40)
    detail = models.CharField(max_length=300, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    suppressed = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-at", "-id"]


class ApiCall(WorkspaceScoped):
    """One outbound call to the WeCom API, with its outcome."""

    endpoint = models.CharField(max_length=80, db_index=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    errcode = models.IntegerField(null=True, blank=True)
    errmsg = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta(WorkspaceScoped.Meta):
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["workspace", "errcode", "at"])]
