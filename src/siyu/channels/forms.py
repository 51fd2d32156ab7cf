"""Console forms for channel live codes. They only parse what the browser sends (tags separated
by commas, shifts written as "Mon-Fri 09:00-18:00"); the rules live in `channels.services.codes`."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from siyu.channels.models import (
    MAX_ATTACHMENTS,
    ChannelAccount,
    ChannelCode,
    CodeKind,
    RoutingStrategy,
    Touchpoint,
)
from siyu.channels.services.codes import CodeInput, SeatInput
from siyu.core.bounds import validate_day
from siyu.web import DayInput, PickedValues, PickerMultiple, choice_field

BLANK: list[tuple[Any, str | Promise]] = [("", "—")]
_SHIFT_SEPARATORS = re.compile(r"[;；\n]+")
_SHIFT = re.compile(r"^(?P<days>.+?)\s+(?P<start>\d{1,2}:\d{2})\s*[-~–—至到]\s*(?P<end>\d{1,2}:\d{2})$")
_DAY_SEPARATORS = re.compile(r"[,，、/\s]+")
_DAY_RANGE = re.compile(r"\s*[-~–—至到]\s*")

# Day names a planner may type, in either language; Monday is 0 as in ChannelAccount.shifts.
_DAY_TOKENS: dict[str, int] = {}
for _number, _names in enumerate([
    ("mon", "monday", "周一", "星期一", "一"), ("tue", "tuesday", "周二", "星期二", "二"),
    ("wed", "wednesday", "周三", "星期三", "三"), ("thu", "thursday", "周四", "星期四", "四"),
    ("fri", "friday", "周五", "星期五", "五"), ("sat", "saturday", "周六", "星期六", "六"),
    ("sun", "sunday", "周日", "周天", "星期日", "星期天", "日", "天"),
]):
    for _name in _names:
        _DAY_TOKENS[_name] = _number


def _day(token: str) -> int:
    number = _DAY_TOKENS.get(token.strip().lower())
    if number is None:
        raise forms.ValidationError(_("“%(token)s” is not a weekday; write e.g. Mon-Fri or 周一至周五."),
                                    params={"token": token})
    return number


def _days(text: str) -> list[int]:
    days: list[int] = []
    text = _DAY_RANGE.sub("-", text.strip())
    for part in _DAY_SEPARATORS.split(text):
        if not part:
            continue
        if "-" in part:
            first, _sep, last = part.partition("-")
            a, b = _day(first), _day(last)
            span = list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(0, b + 1))
        else:
            span = [_day(part)]
        days.extend(d for d in span if d not in days)
    return sorted(days)


def _clock(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def parse_shifts(text: str) -> list[dict[str, Any]]:
    """"Mon-Fri 09:00-18:00; Sat 10:00-16:00" (or 周一至周五 09:00-18:00) as shift dicts;
    blank means always on. Whether the times make sense is the service's to say."""
    shifts = []
    for entry in _SHIFT_SEPARATORS.split(text or ""):
        entry = entry.strip()
        if not entry:
            continue
        match = _SHIFT.match(entry)
        if match is None:
            raise forms.ValidationError(
                _("Write a shift as weekdays and hours, e.g. “Mon-Fri 09:00-18:00”; “%(entry)s” is not."),
                params={"entry": entry})
        shifts.append({"weekdays": _days(match["days"]), "start": _clock(match["start"]), "end": _clock(match["end"])})
    return shifts


def _day_name(number: int) -> str:
    return [pgettext("weekday", "Mon"), pgettext("weekday", "Tue"), pgettext("weekday", "Wed"),
            pgettext("weekday", "Thu"), pgettext("weekday", "Fri"), pgettext("weekday", "Sat"),
            pgettext("weekday", "Sun")][number]


def format_shifts(shifts: list[dict[str, Any]]) -> str:
    """Shifts as a planner reads and types them, in the current language."""
    entries = []
    for shift in shifts or []:
        days = sorted(set(shift.get("weekdays") or []))
        runs: list[list[int]] = []
        for d in days:
            if runs and d == runs[-1][-1] + 1:
                runs[-1].append(d)
            else:
                runs.append([d])
        parts = [_day_name(r[0]) if len(r) == 1 else f"{_day_name(r[0])}-{_day_name(r[-1])}" for r in runs]
        entries.append(f"{','.join(parts)} {shift.get('start', '')}-{shift.get('end', '')}")
    return "; ".join(entries)


class CodeForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("channel code", "Name"), max_length=60, required=False,
                           help_text=_("At most 30 characters; WeCom keeps it as the contact way's remark."))
    touchpoint = forms.ChoiceField(label=_("Touchpoint"), choices=[*BLANK, *Touchpoint.choices], required=False)
    # Code kind, group, expiry and poster headline (channel codes' own settings).
    kind = forms.ChoiceField(label=_("Kind"), choices=CodeKind.choices, initial=CodeKind.CONTACT_WAY,
                             widget=forms.RadioSelect, required=False,
                             help_text=_("A QR code to print or show, or an acquisition link to put in ads, "
                                         "articles and messages. Fixed once the code exists."))
    group = forms.TypedChoiceField(label=pgettext_lazy("channel code", "Code group"), coerce=int, empty_value=None,
                                   required=False)
    expires_on = forms.DateField(label=_("Expires after"), required=False, widget=DayInput,
                                 validators=[validate_day],
                                 help_text=_("Optional. After this day (China time) the code stops adding "
                                             "friends: Siyu deletes it at WeCom and lists it as expired."))
    poster_headline = forms.CharField(label=_("Poster headline"), max_length=80, required=False,
                                      help_text=_("The big line on the poster, above the QR code. Empty: the "
                                                  "persona's slogan. The code's name is never printed."))
    promoter_name = forms.CharField(label=_("Promoter"), max_length=60, required=False,
                                    help_text=_("For a promoter code: who shares it. Each promoter gets one code."))
    strategy = forms.ChoiceField(label=_("Routing"), choices=RoutingStrategy.choices, initial=RoutingStrategy.ROUND_ROBIN,
                                 help_text=_("Round-robin takes turns, weighted follows the weights, least filled "
                                             "prefers the emptiest account."))
    skip_verify = forms.BooleanField(label=_("Add without confirmation"), required=False, initial=True)
    welcome_text = forms.CharField(label=_("Welcome message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    welfare = forms.TypedChoiceField(label=_("Add-friend welfare"), coerce=int, empty_value=None, required=False)
    auto_tag_ids = PickedValues(label=_("Auto-tags"), required=False,
                                widget=PickerMultiple(search_label=_("Search tags")),
                                help_text=_("Tags put on every customer this code brings. Only tags that exist in "
                                            "WeCom are listed; sync the tags if one is missing."))
    group_chat_id = forms.CharField(label=_("Group to invite to"), max_length=80, required=False,
                                    help_text=_("The customer group's chat ID (it starts with “wr”), checked with "
                                                "WeCom when you save. Siyu does not list the corp's groups yet."))
    group_code = forms.TypedChoiceField(label=_("Group code in the welcome"), coerce=int, empty_value=None,
                                        required=False,
                                        help_text=_("The welcome message carries this group live code's QR, so "
                                                    "new friends join the group with a long press."))

    def __init__(self, *args: Any, welfare_choices: list[tuple[int, str]] | None = None,
                 tag_choices: list[tuple[str, list[tuple[str, str]]]] | None = None,
                 group_choices: list[tuple[int, str]] | None = None,
                 group_code_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "group_code").choices = BLANK + list(group_code_choices or [])
        choice_field(self, "group").choices = BLANK + list(group_choices or [])
        choice_field(self, "welfare").choices = BLANK + list(welfare_choices or [])
        choice_field(self, "auto_tag_ids").choices = list(tag_choices or [])

    @classmethod
    def initial_from(cls, code: ChannelCode) -> dict[str, Any]:
        return {
            "name": code.name, "touchpoint": code.touchpoint, "promoter_name": code.promoter_name,
            "strategy": code.strategy, "skip_verify": code.skip_verify, "welcome_text": code.welcome_text,
            "welfare": code.welfare_id, "auto_tag_ids": list(code.auto_tag_ids),
            "group_chat_id": code.group_chat_id, "group_code": code.group_code_id,
            "kind": code.kind, "group": code.group_id, "expires_on": code.expires_on,
            "poster_headline": code.poster_headline,
        }

    def to_input(self, seats: list[SeatInput], attachments: list[dict[str, Any]]) -> CodeInput:
        d = self.cleaned_data
        return CodeInput(
            name=d["name"], touchpoint=d["touchpoint"], promoter_name=d["promoter_name"], strategy=d["strategy"],
            skip_verify=d["skip_verify"], seats=seats, welcome_text=d["welcome_text"],
            welcome_attachments=attachments, welfare_id=d["welfare"], auto_tag_ids=list(d["auto_tag_ids"] or []),
            group_chat_id=d["group_chat_id"], group_code_id=d["group_code"],
            kind=d["kind"] or CodeKind.CONTACT_WAY, group_id=d["group"], expires_on=d["expires_on"], poster_headline=d["poster_headline"],
        )


class SeatForm(forms.Form):
    """One row of the seats table; a row without an account is left out."""

    account = forms.TypedChoiceField(label=_("Account"), coerce=int, empty_value=None, required=False)
    weight = forms.IntegerField(label=_("Weight"), required=False, initial=1)
    daily_cap = forms.IntegerField(label=_("Daily cap"), required=False)
    is_backup = forms.BooleanField(label=_("Backup"), required=False)
    shifts = forms.CharField(label=_("Shifts"), required=False, max_length=300)

    def __init__(self, *args: Any, account_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "account").choices = BLANK + list(account_choices or [])

    def clean_shifts(self) -> list[dict[str, Any]]:
        return parse_shifts(self.cleaned_data.get("shifts") or "")

    @staticmethod
    def initial_from(seat: ChannelAccount) -> dict[str, Any]:
        return {"account": seat.account_id, "weight": seat.weight, "daily_cap": seat.daily_cap,
                "is_backup": seat.is_backup, "shifts": format_shifts(seat.shifts)}


class BaseSeatFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, account_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        self.account_choices = account_choices or []
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "account_choices": self.account_choices}

    def to_seats(self) -> list[SeatInput]:
        seats = []
        for form in self.forms:
            d = form.cleaned_data
            if not d or d.get("account") is None:
                continue
            weight = d.get("weight")
            seats.append(SeatInput(account_id=d["account"], weight=1 if weight is None else weight,
                                   daily_cap=d.get("daily_cap"), is_backup=bool(d.get("is_backup")),
                                   shifts=d.get("shifts") or []))
        return seats


# `formset_factory` makes a subclass of `formset`; the casts keep its own methods and arguments known.
SeatFormSet = cast("type[BaseSeatFormSet]",
                   forms.formset_factory(SeatForm, formset=BaseSeatFormSet, extra=3, max_num=100, absolute_max=100))


class AttachmentForm(forms.Form):
    """One welcome attachment (≤ 9): an image, a link, a mini-program card, a video or a file; a
    row without a kind is left out. The welcome service validates what each kind needs."""

    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=BLANK + [
        ("image", _("Image")), ("link", _("Link")), ("miniprogram", _("Mini-program")),
        ("video", pgettext_lazy("attachment", "Video")), ("file", pgettext_lazy("attachment", "File"))])
    title = forms.CharField(label=_("Title"), required=False, max_length=128)
    url = forms.CharField(label=_("Link URL"), required=False, max_length=500)
    picture = forms.CharField(label=_("Picture URL"), required=False, max_length=500)
    description = forms.CharField(label=_("Description"), required=False, max_length=512)
    media_id = forms.CharField(label=_("Media ID"), required=False, max_length=200)
    appid = forms.CharField(label=_("Mini-program AppID"), required=False, max_length=64)
    page = forms.CharField(label=_("Mini-program page"), required=False, max_length=200)
    # An uploaded picture (the image, or a mini-program's cover) and when its media id was had.
    file = forms.CharField(required=False, max_length=120, widget=forms.HiddenInput)
    media_at = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def to_item(self) -> dict[str, Any] | None:
        d = {k: (v or "").strip() for k, v in self.cleaned_data.items()}
        if not d.get("kind"):
            return None
        uploaded = {"file": d["file"], "media_at": d["media_at"]} if d["file"] else {}
        if d["kind"] == "image":
            if d["file"]:
                item = {"media_id": d["media_id"], **uploaded}
            else:
                item = {"media_id": d["media_id"]} if d["media_id"] else {"pic_url": d["picture"]}
        elif d["kind"] == "link":
            item = {"title": d["title"], "url": d["url"], "desc": d["description"], "picurl": d["picture"]}
        elif d["kind"] == "miniprogram":
            item = {"title": d["title"], "pic_media_id": d["media_id"], "appid": d["appid"], "page": d["page"],
                    **uploaded}
        else:  # video, file
            item = {"media_id": d["media_id"]}
        return {"type": d["kind"], **{k: v for k, v in item.items() if v}}

    @staticmethod
    def initial_from(item: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": item.get("type", ""), "title": item.get("title", ""), "url": item.get("url", ""),
            "picture": item.get("pic_url") or item.get("picurl", ""), "description": item.get("desc", ""),
            "media_id": item.get("media_id") or item.get("pic_media_id", ""), "appid": item.get("appid", ""),
            "page": item.get("page", ""), "file": item.get("file", ""), "media_at": item.get("media_at", ""),
        }


class BaseAttachmentFormSet(forms.BaseFormSet):
    def to_items(self) -> list[dict[str, Any]]:
        return [item for form in self.forms if form.cleaned_data and (item := form.to_item()) is not None]


# Rows past the ninth reach the welcome service, which refuses them with its reason; the
# absolute maximum only bounds what a crafted post can make the server parse.
AttachmentFormSet = cast("type[BaseAttachmentFormSet]",
                         forms.formset_factory(AttachmentForm, formset=BaseAttachmentFormSet, extra=0,
                                               max_num=MAX_ATTACHMENTS, absolute_max=3 * MAX_ATTACHMENTS))
