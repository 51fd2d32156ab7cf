from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.wecom.models import WECHAT_API_BASE, WECHAT_OAUTH_BASE, WECOM_API_BASE


class ConnectionForm(forms.Form):
    corp_id = forms.CharField(label=_("Corp ID"), max_length=64)
    agent_id = forms.CharField(label=_("AgentId"), max_length=32)
    secret = forms.CharField(label=_("App secret"), widget=forms.PasswordInput, max_length=128)
    token = forms.CharField(label=_("Callback token"), max_length=32, widget=forms.PasswordInput)
    aes_key = forms.CharField(label=_("EncodingAESKey"), max_length=43, min_length=43, widget=forms.PasswordInput)
    api_base = forms.URLField(label=_("API base URL"), initial=WECOM_API_BASE, assume_scheme="https")


class ServiceAccountForm(forms.Form):
    """服务号 — the brand's WeChat service account; the secret is write-only (blank keeps it)."""

    app_id = forms.CharField(label=_("Service account AppID"), max_length=64)
    secret = forms.CharField(
        label=_("Service account AppSecret"), widget=forms.PasswordInput, max_length=128, required=False,
        help_text=_("Leave blank to keep the saved secret."),
    )
    api_base = forms.URLField(label=_("WeChat API base URL"), initial=WECHAT_API_BASE, assume_scheme="https")
    oauth_base = forms.URLField(label=_("WeChat OAuth base URL"), initial=WECHAT_OAUTH_BASE, assume_scheme="https")
