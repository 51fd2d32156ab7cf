from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.wecom.models import WECOM_API_BASE


class ConnectionForm(forms.Form):
    corp_id = forms.CharField(label=_("Corp ID"), max_length=64)
    agent_id = forms.CharField(label=_("AgentId"), max_length=32)
    secret = forms.CharField(label=_("App secret"), widget=forms.PasswordInput, max_length=128)
    token = forms.CharField(label=_("Callback token"), max_length=32, widget=forms.PasswordInput)
    aes_key = forms.CharField(label=_("EncodingAESKey"), max_length=43, min_length=43, widget=forms.PasswordInput)
    api_base = forms.URLField(label=_("API base URL"), initial=WECOM_API_BASE, assume_scheme="https")
