"""Forms of the moderation pages: rule sets, blacklist entries, removal tasks, reports, keywords."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.community.models import GroupType
from siyu.moderation.services import TEMPLATES
from siyu.web import choice_field


class RulesForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("group rules", "name"), max_length=60)
    group_type = forms.ChoiceField(label=_("applies to"), required=False,
                                   help_text=_("Groups of this type; “every group” serves the types without rules of their own."))
    join_rules = forms.CharField(label=_("join rules"), required=False, max_length=1000,
                                 widget=forms.Textarea(attrs={"rows": 4}),
                                 help_text=_("Who may join, and how to name and introduce oneself (命名规则)."))
    behaviour = forms.CharField(label=_("behaviour"), required=False, max_length=1000,
                                widget=forms.Textarea(attrs={"rows": 5}),
                                help_text=_("How to talk, what not to post, check-in tasks (交流规则, 任务规则)."))
    penalties = forms.CharField(label=_("penalties"), required=False, max_length=1000,
                                widget=forms.Textarea(attrs={"rows": 4}),
                                help_text=_("What a breach costs: a warning, removal, elimination by points (奖惩规则)."))
    template = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "group_type").choices = [("", _("Every group")), *[(v, label) for v, label in GroupType.choices if v]]


TEMPLATE_CHOICES = [(t.key, t.title) for t in TEMPLATES]


class EntryForm(forms.Form):
    external_userid = forms.CharField(label=_("external userid"), required=False, max_length=64)
    unionid = forms.CharField(label="unionid", required=False, max_length=64)
    name = forms.CharField(label=pgettext_lazy("person", "name"), required=False, max_length=64)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class LiftForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class GroupMemberForm(forms.Form):
    group = forms.TypedChoiceField(label=_("group"), coerce=int)
    userid = forms.CharField(label=_("member (external userid)"), max_length=64)

    def __init__(self, *args: Any, group_choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "group").choices = group_choices


class RemovalForm(GroupMemberForm):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class ReportForm(GroupMemberForm):
    text = forms.CharField(label=_("what happened"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Paste the message, or say what the member did."))
    blacklist = forms.BooleanField(label=_("also put on the blacklist"), required=False)


class KeywordsForm(forms.Form):
    words = forms.CharField(label=_("keywords"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                            help_text=_("One a line. A joining member whose nickname holds one is flagged."))
