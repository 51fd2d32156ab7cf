"""客户 console forms. They only parse what the browser sent; `customers.services` checks values
(custom fields by kind, phone, birthday, remark lengths) so the API gets the same rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.bounds import parse_id, validate_day
from siyu.customers.models import CustomField, FieldKind, LifecycleStage
from siyu.customers.services.listing import SORTS, CustomerFilters
from siyu.customers.services.profile import DESCRIPTION_MAX_CHARS, REMARK_MAX_CHARS
from siyu.web import DayInput, choice_field

DateInput = DayInput  # ISO values, which <input type="date"> requires


class FieldForm(forms.Form):
    """自定义字段 definition."""

    key = forms.CharField(label=_("Key"), max_length=40, required=False,
                          help_text=_("Names the value in segment rules and the API; fixed once created."))
    label = forms.CharField(label=_("Label"), max_length=40, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices)
    choices = forms.CharField(label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text=_("For a choice field: one choice per line."))
    position = forms.IntegerField(label=_("Position"), required=False, initial=0, min_value=0, max_value=32767)

    def __init__(self, *args: Any, editing: CustomField | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing is not None:
            self.fields["key"].disabled = True


class ProfileForm(forms.Form):
    """Phone, birthday and one input per custom field (`field_<key>`), all optional."""

    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    birthday = forms.CharField(label=_("Birthday"), required=False, widget=DateInput())

    def __init__(self, *args: Any, custom_fields: Sequence[CustomField] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_fields = list(custom_fields)
        for custom in self.custom_fields:
            name = f"field_{custom.key}"
            if custom.kind == FieldKind.CHOICE:
                self.fields[name] = forms.ChoiceField(
                    label=custom.label, required=False, choices=[("", "—"), *[(c, c) for c in custom.choices]])
            elif custom.kind == FieldKind.DATE:
                self.fields[name] = forms.CharField(label=custom.label, required=False, widget=DateInput())
            else:
                self.fields[name] = forms.CharField(label=custom.label, required=False, max_length=200)

    def custom_values(self) -> dict[str, str]:
        return {c.key: self.cleaned_data.get(f"field_{c.key}", "") for c in self.custom_fields}


class RemarkForm(forms.Form):
    remark = forms.CharField(label=_("Remark"), required=False, max_length=REMARK_MAX_CHARS)
    description = forms.CharField(label=_("Description"), required=False, max_length=DESCRIPTION_MAX_CHARS,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class ListForm(forms.Form):
    """The list page's search, filters and sort (GET)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=64)
    stage = forms.ChoiceField(label=_("Lifecycle stage"), required=False,
                              choices=[("", _("Any stage")), *LifecycleStage.choices])
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None, choices=[])
    account = forms.TypedChoiceField(label=_("Staff account"), required=False, coerce=int, empty_value=None,
                                     choices=[])
    state = forms.ChoiceField(label=_("Channel code"), required=False, choices=[])
    added_from = forms.DateField(label=_("Added from"), required=False, validators=[validate_day], widget=DateInput())
    added_to = forms.DateField(label=_("Added to"), required=False, validators=[validate_day], widget=DateInput())
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[(k, v[0]) for k, v in SORTS.items()])
    # Drawn by the page as its own switch (see `customers.services.scope`), not in the filter row.
    mine = forms.BooleanField(label=_("Only customers of the accounts I operate"), required=False)

    def __init__(self, *args: Any, tag_choices: Sequence[tuple[int, str]] = (),
                 account_choices: Sequence[tuple[int, str]] = (),
                 channel_choices: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "tag").choices = [("", _("Any tag")), *tag_choices]
        choice_field(self, "account").choices = [("", _("Any account")), *account_choices]
        channels = [("", _("Any channel code")), *channel_choices]
        state = (self.data.get("state") or "").strip() if self.is_bound else ""
        if state and state not in {value for value, _label in channels}:
            # a state no code has (a link from an old page, a code made outside Siyu): kept, marked
            channels.append((state, _("%(state)s (unknown code)") % {"state": state}))
        choice_field(self, "state").choices = channels

    def filters(self) -> CustomerFilters:
        if not self.is_valid():
            return CustomerFilters()
        data = self.cleaned_data
        return CustomerFilters(q=data["q"], stage=data["stage"], tag_id=data["tag"], account_id=data["account"],
                               state=data["state"].strip(), added_from=data["added_from"],
                               added_to=data["added_to"], sort=data["sort"] or "newest", mine=data["mine"])


class IdListField(forms.Field):
    """Checked row ids (any number of `customers` values); the service scopes them to the brand."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Select customers from the list.")}

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, (list, tuple)) else ([value] if value else [])
        ids = [parse_id(v) for v in values]
        if any(i is None for i in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return sorted({i for i in ids if i is not None})

    def validate(self, value: list[int]) -> None:
        if self.required and not value:
            raise forms.ValidationError(_("Select at least one customer."), code="required")


BULK_MAX = 1000


class BulkForm(forms.Form):
    """The checked customers; the action (an app's `CustomerAction`) reads the rest itself."""

    customers = IdListField()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if len(data.get("customers") or []) > BULK_MAX:
            self.add_error("customers", _("At most %(n)s customers at once.") % {"n": BULK_MAX})
        return data
