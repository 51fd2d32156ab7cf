from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.permissions import Role


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=200)


class WorkspaceForm(forms.Form):
    name = forms.CharField(label=_("Brand name"), max_length=80)
    slug = forms.SlugField(
        label=_("Short name"), max_length=40, required=False,
        help_text=_("Latin letters, digits and hyphens; used in URLs such as the WeCom callback."),
    )


class InviteForm(forms.Form):
    # The least a new member usually needs; an administrator is chosen on purpose, never by default.
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CUSTOMER_OPS)
    note = forms.CharField(label=_("Who is it for"), max_length=80, required=False)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    # Set by the page once the person confirmed a grant of 管理员 (console.js, data-confirm on the option).
    confirmed = forms.BooleanField(required=False)


class JoinForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=200)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, max_length=200)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class PasswordForm(forms.Form):
    current_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput, max_length=200)
    new_password = forms.CharField(label=_("New password"), widget=forms.PasswordInput, max_length=200)
    new_password2 = forms.CharField(label=_("New password again"), widget=forms.PasswordInput, max_length=200)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=60)
