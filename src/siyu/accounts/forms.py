"""Console forms of the staff accounts. They only parse what the browser sends; the rules and
their messages live in `accounts.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Grouping, StaffAccount
from siyu.accounts.services import AccountInput
from siyu.core.models import Membership
from siyu.ip.models import Persona
from siyu.web import choice_field

BLANK: list[tuple[Any, str | Promise]] = [("", "—")]


class PersonaChoiceField(forms.TypedChoiceField):
    """A persona picked from a list; whether it is one of this brand's is the service's call,
    so the message is the service's too."""

    def valid_value(self, value: Any) -> bool:
        return True


class AccountForm(forms.Form):
    persona = PersonaChoiceField(label=_("Persona"), coerce=int, empty_value=None, required=False,
                                     help_text=_("The persona this account embodies."))
    operator = PersonaChoiceField(label=_("Operated by"), coerce=int, empty_value=None, required=False,
                                  help_text=_("The team member who runs this account; they get its churn and "
                                              "capacity notices."))
    grouping = forms.ChoiceField(label=_("Organised by"), choices=[*BLANK, *Grouping.choices], required=False)
    group_name = forms.CharField(label=_("Store or brand line"), required=False,
                                 help_text=_("e.g. 南京西路店, or the brand line's shared name."))
    friend_limit = forms.IntegerField(label=_("Friend limit"), required=False,
                                      help_text=_("5,000 to start; WeCom expands an account up to 20,000."))
    kit_avatar = forms.FileField(
        label=_("Avatar as shown"), required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("The picture the account shows in WeCom; it is compared with the persona's avatar."),
    )
    moments_cover = forms.CharField(label=_("Moments cover"), required=False,
                                    help_text=_("What the moments cover shows, or where the picture is."))
    signature = forms.CharField(label=_("Signature"), required=False,
                                help_text=_("Should carry the persona's slogan."))
    greeting = forms.CharField(label=_("Greeting"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("The first words a new friend reads; should name the persona."))

    def __init__(self, *args: Any, personas: list[Persona] | None = None, members: list[Membership] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "persona").choices = BLANK + [(p.pk, p.name) for p in personas or []]
        choice_field(self, "operator").choices = BLANK + [(m.pk, f"{m.user.get_username()} · {m.get_role_display()}")
                                                   for m in members or []]

    @classmethod
    def initial_from(cls, account: StaffAccount) -> dict[str, Any]:
        return {
            "persona": account.persona_id, "operator": account.operator_id, "grouping": account.grouping, "group_name": account.group_name,
            "friend_limit": account.friend_limit, "moments_cover": account.moments_cover,
            "signature": account.signature, "greeting": account.greeting,
        }

    def to_input(self) -> AccountInput:
        d = self.cleaned_data
        return AccountInput(
            persona_id=d["persona"], grouping=d["grouping"], group_name=d["group_name"],
            friend_limit=d["friend_limit"], moments_cover=d["moments_cover"], signature=d["signature"],
            greeting=d["greeting"], operator_id=d["operator"],
        )


class PlanForm(forms.Form):
    expected = forms.IntegerField(label=_("Customers expected"), required=False)
    days = forms.IntegerField(label=_("Within days"), required=False)
    persona = PersonaChoiceField(label=_("Persona"), coerce=int, empty_value=None, required=False)

    def __init__(self, *args: Any, personas: list[Persona] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "persona").choices = BLANK + [(p.pk, p.name) for p in personas or []]
