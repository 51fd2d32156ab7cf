"""Forms of the SOP editor and the task centre."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.customers.models import LifecycleStage
from siyu.sop.groups import directory
from siyu.sop.models import SopKind, StepChannel, TaskKind, Timing, TriggerKind
from siyu.sop.services import SNOOZE_HOURS, SopInput, StepInput
from siyu.web import MinuteInput

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]


class KindSelect(forms.Select):
    """The kinds, with the group SOP shown but not selectable when no app stores customer groups
    (the community app registers them with `sop.groups`)."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value == SopKind.GROUP and directory() is None:
            option["attrs"]["disabled"] = True
        return option


class SopForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), choices=SopKind.choices, initial=SopKind.CUSTOMER, widget=KindSelect,
                             required=False,
                             help_text=_("A group SOP runs for customer groups (社群): choose its audience by group "
                                         "type and tag below, and a group trigger."))
    trigger = forms.ChoiceField(label=_("Trigger"), choices=TriggerKind.choices,
                                help_text=_("A customer SOP's trigger; an event SOP enrols its audience instead."))
    channel_states = forms.CharField(label=_("Channel code states"), required=False, max_length=500,
                                     help_text=_("Separated by commas; empty means any add."))
    tag_id = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    segment_id = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=int, empty_value=None)
    stage = forms.ChoiceField(label=_("Lifecycle stage"), required=False, choices=[("", "—"), *LifecycleStage.choices],
                              help_text=_("For “Reached a lifecycle stage”."))
    at_time = forms.TimeField(label=_("Time of day"), required=False, widget=TIME,
                              help_text=_("For a birthday or a schedule: when that day's enrolment starts."))
    schedule_weekday = forms.TypedChoiceField(label=_("Every"), required=False, coerce=int, empty_value=None,
                                              choices=[("", "—"), *WEEKDAYS],
                                              help_text=_("For a schedule: a weekday, or a date below."))
    schedule_date = forms.DateField(label=_("On"), required=False, widget=DATE)
    event_at = forms.DateTimeField(label=_("Event date and time"), required=False, widget=MinuteInput(),
                                   help_text=_("For an event SOP: steps are days before (negative) or after it; "
                                               "its audience is the segment or the tag above."))
    group_type = forms.ChoiceField(label=_("Group type"), required=False,
                                   help_text=_("For a group SOP: the groups of this type (any when empty)."))
    group_tag = forms.CharField(label=_("Group tag"), required=False, max_length=12,
                                help_text=_("For a group SOP: the groups carrying this tag (any when empty)."))
    member_count = forms.IntegerField(label=_("Member count"), required=False, min_value=2, max_value=500,
                                      help_text=_("For “A customer group reached a member count”: seed 003's stages "
                                                  "are about 100, 400 and 500."))
    delay_days = forms.IntegerField(label=_("Days after the trigger"), min_value=0, max_value=365, initial=0,
                                    help_text=_("“N days after the add”: choose the add trigger and set N here."))
    quiet_start = forms.TimeField(label=_("Quiet hours from"), widget=TIME, initial="22:00")
    quiet_end = forms.TimeField(label=_("Quiet hours until"), widget=TIME, initial="08:00")
    working_days_only = forms.BooleanField(label=_("Working days only"), required=False, initial=True)
    migrate = forms.BooleanField(label=_("Move running enrolments to this version"), required=False)

    def __init__(self, *args: Any, tags: list[tuple[int, str]], segments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag_id"].choices = [("", "—"), *tags]  # type: ignore[attr-defined]
        self.fields["segment_id"].choices = [("", "—"), *segments]  # type: ignore[attr-defined]
        found = directory()
        self.fields["group_type"].choices = [("", "—"), *(found.types() if found else [])]  # type: ignore[attr-defined]

    def to_input(self) -> SopInput:
        d = self.cleaned_data
        states = [s.strip() for s in d["channel_states"].split(",") if s.strip()]
        return SopInput(name=d["name"], kind=d["kind"] or SopKind.CUSTOMER, trigger=d["trigger"], channel_states=states,
                        tag_id=d["tag_id"], segment_id=d["segment_id"], delay_days=d["delay_days"],
                        quiet_start=d["quiet_start"], quiet_end=d["quiet_end"],
                        working_days_only=d["working_days_only"], stage=d["stage"], at_time=d["at_time"],
                        schedule_weekday=d["schedule_weekday"], schedule_date=d["schedule_date"],
                        event_at=d["event_at"], group_type=d["group_type"] or "",
                        group_tag=(d["group_tag"] or "").strip(), member_count=d["member_count"])


class StepForm(forms.Form):
    timing = forms.ChoiceField(label=_("Timing"), choices=Timing.choices, initial=Timing.RELATIVE)
    days = forms.IntegerField(label=_("Days"), min_value=-365, max_value=365, initial=0)
    hours = forms.IntegerField(label=_("Hours"), min_value=0, max_value=23, initial=0)
    at_time = forms.TimeField(label=_("At"), required=False, widget=TIME)
    absolute_at = forms.DateTimeField(label=_("Date and time"), required=False, widget=MinuteInput())
    repeat_every_days = forms.IntegerField(label=_("Repeat every (days)"), min_value=0, max_value=90, initial=0)
    repeat_times = forms.IntegerField(label=_("Times"), min_value=1, max_value=30, initial=1)
    channel = forms.ChoiceField(label=_("Channel"), choices=StepChannel.choices)
    task_kind = forms.ChoiceField(label=_("Task"), required=False, choices=[("", "—"), *TaskKind.choices])
    text = forms.CharField(label=_("Text"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    not_tag_id = forms.TypedChoiceField(label=_("Not tagged"), required=False, coerce=int, empty_value=None)
    stage = forms.ChoiceField(label=_("Stage is"), required=False, choices=[("", "—"), *LifecycleStage.choices])
    window_hours = forms.IntegerField(label=_("Catch-up window (hours)"), min_value=1, max_value=720, initial=24)
    persona_id = forms.TypedChoiceField(label=_("Persona (moments post)"), required=False, coerce=int,
                                        empty_value=None)

    def __init__(self, *args: Any, tags: list[tuple[int, str]], personas: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["not_tag_id"].choices = [("", "—"), *tags]  # type: ignore[attr-defined]
        self.fields["persona_id"].choices = [("", "—"), *personas]  # type: ignore[attr-defined]

    def blank(self) -> bool:
        d = getattr(self, "cleaned_data", {})
        return not (d.get("text") or d.get("task_kind"))

    def to_input(self) -> StepInput:
        d = self.cleaned_data
        return StepInput(timing=d["timing"], days=d["days"], hours=d["hours"], at_time=d["at_time"],
                         absolute_at=d["absolute_at"], repeat_every_days=d["repeat_every_days"],
                         repeat_times=d["repeat_times"], channel=d["channel"], task_kind=d["task_kind"],
                         text=d["text"], not_tag_ids=[d["not_tag_id"]] if d["not_tag_id"] else [],
                         stage=d["stage"], window_hours=d["window_hours"], persona_id=d["persona_id"])


StepFormSet = forms.formset_factory(StepForm, extra=2, max_num=20, validate_max=True)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), max_length=300)


class SnoozeForm(forms.Form):
    hours = forms.TypedChoiceField(label=_("Snooze"), coerce=int, choices=[(h, h) for h in SNOOZE_HOURS])


class SkipForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=120)
