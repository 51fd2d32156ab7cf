"""客户画像 — one customer's profile: WeCom's side (nickname, avatar, gender, unionid), the
remark and description each staff account keeps (synced with `externalcontact/remark`), the
brand's own fields (phone, birthday, custom fields 自定义字段) and the timeline.

A remark is written to WeCom first and then kept locally (WeCom fires no callback for an API
change). Profile edits put a FIELD_CHANGED entry on the timeline and tell segments and
lifecycle (`customers_changed(..., "fields")`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import audit_change, change, changes, fact, model_changes, snapshot
from siyu.core.tenancy import workspace_context
from siyu.customers.models import (
    Customer,
    CustomField,
    FieldKind,
    FollowRelation,
    TimelineEntry,
)
from siyu.customers.services.common import add_timeline, customers_changed, shown_phone
from siyu.customers.services.listing import customers_query
from siyu.customers.services.scope import scoped
from siyu.customers.timeline import TimelineKind
from siyu.wecom.client import WeComClient, WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.customers")

# WECOM.md §3 externalcontact/remark
REMARK_MAX_CHARS = 20
DESCRIPTION_MAX_CHARS = 150
TEXT_VALUE_MAX_CHARS = 200
CHOICE_MAX_CHARS = 40
MAX_CHOICES = 50
MAX_FIELDS = 100
PHONE_DIGITS = (5, 20)
TIMELINE_LIMIT = 200

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")



def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CUSTOMERS, Action.EDIT)


# --- custom fields (自定义字段) -------------------------------------------------------------------

def list_fields(workspace: Workspace, membership: Membership | None) -> list[CustomField]:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return list(CustomField.objects.for_workspace(workspace).order_by("position", "id"))


def get_field(workspace: Workspace, membership: Membership | None, field_id: int) -> CustomField:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return CustomField.objects.for_workspace(workspace).get(pk=field_id)


def _clean_choices(raw: Sequence[str] | str) -> list[str]:
    items = raw.splitlines() if isinstance(raw, str) else list(raw)
    seen: dict[str, None] = {}
    for item in items:
        text = str(item).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def save_field(
    workspace: Workspace,
    membership: Seat | None,
    field_id: int | None,
    *,
    key: str,
    label: str,
    kind: str,
    choices: Sequence[str] | str = (),
    position: int = 0,
) -> CustomField:
    """Create or change a custom field. The key names the value in `Customer.fields` and in
    segment rules, so it is fixed once created; choices are one per line (or a list)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    existing = CustomField.objects.for_workspace(workspace).get(pk=field_id) if field_id else None
    key = (key or "").strip().lower()
    label = (label or "").strip()
    options = _clean_choices(choices or [])
    errors: dict[str, list[str]] = {}
    if existing is not None:
        key = existing.key
    elif not _KEY.match(key):
        errors["key"] = [_("Use a lowercase letter first, then letters, digits or underscores (at most 40).")]
    elif CustomField.objects.for_workspace(workspace).filter(key=key).exists():
        errors["key"] = [_("Another field already uses this key.")]
    elif CustomField.objects.for_workspace(workspace).count() >= MAX_FIELDS:
        errors["key"] = [_("A brand may define at most %(n)s custom fields.") % {"n": MAX_FIELDS}]
    if not label:
        errors["label"] = [_("Give the field a label.")]
    elif len(label) > 40:
        errors["label"] = [_("At most 40 characters.")]
    if kind not in FieldKind.values:
        errors["kind"] = [_("Choose a kind.")]
    if kind == FieldKind.CHOICE:
        if not options:
            errors["choices"] = [_("A choice field needs at least one choice, one per line.")]
        elif len(options) > MAX_CHOICES:
            errors["choices"] = [_("At most %(n)s choices.") % {"n": MAX_CHOICES}]
        elif any(len(o) > CHOICE_MAX_CHARS for o in options):
            errors["choices"] = [_("Each choice has at most %(n)s characters.") % {"n": CHOICE_MAX_CHARS}]
    else:
        options = []
    if not 0 <= int(position or 0) <= 32767:
        errors["position"] = [_("Use a number from 0 to 32767.")]
    if errors:
        raise ValidationError(errors)
    values = {"label": label, "kind": kind, "choices": options, "position": int(position or 0)}
    if existing is None:
        created = CustomField.objects.create(workspace=workspace, key=key, **values)
        audit_change(workspace, membership, AuditAction.CREATED, module="customers", subject=gettext_lazy("custom field"),
                     name=label, facts=[fact(gettext_lazy("kind"), FieldKind(kind).label)])
        return created
    before = snapshot(existing, FIELD_AUDITED)
    CustomField.unscoped.filter(pk=existing.pk).update(**values)
    existing.refresh_from_db()
    audit_change(workspace, membership, AuditAction.UPDATED, module="customers", subject=gettext_lazy("custom field"),
                 name=label, changes=model_changes(before, existing, FIELD_AUDITED, FIELD_LABELS))
    return existing


FIELD_AUDITED = ("label", "kind", "choices", "position")
FIELD_LABELS = {"label": gettext_lazy("label"), "kind": gettext_lazy("kind"), "choices": gettext_lazy("choices"), "position": pgettext_lazy("custom field", "position")}


def delete_field(workspace: Workspace, membership: Membership | None, field_id: int) -> int:
    """Remove a custom field and its values from every customer (segments are told).
    Returns how many customers had a value."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    custom = CustomField.objects.for_workspace(workspace).get(pk=field_id)
    changed: list[int] = []
    with transaction.atomic():
        holders = Customer.objects.for_workspace(workspace).filter(fields__has_key=custom.key).only("pk", "fields")
        for customer in holders.iterator(chunk_size=1000):
            customer.fields.pop(custom.key, None)
            Customer.unscoped.filter(pk=customer.pk).update(fields=customer.fields)
            changed.append(customer.pk)
        custom.delete()
        customers_changed(workspace, changed, "fields")
        audit_change(workspace, membership, AuditAction.DELETION, module="customers", subject=gettext_lazy("custom field"),
                     name=custom.label, facts=[fact(gettext_lazy("customers with a value"), len(changed))])
    return len(changed)


def clean_value(custom: CustomField, raw: Any) -> Any:
    """A custom field's value as stored: text, a number (int when whole), an ISO date, or one of
    the choices. Empty means no value (None). Raises ValidationError saying what is wrong."""
    if raw is None:
        return None
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool) and custom.kind == FieldKind.NUMBER:
        text = str(raw)
    elif isinstance(raw, dt.date) and custom.kind == FieldKind.DATE:
        return raw.isoformat()
    else:
        text = str(raw).strip()
    if text == "":
        return None
    if custom.kind == FieldKind.TEXT:
        if len(text) > TEXT_VALUE_MAX_CHARS:
            raise ValidationError(_("At most %(n)s characters.") % {"n": TEXT_VALUE_MAX_CHARS})
        return text
    if custom.kind == FieldKind.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationError(_("Enter a number, e.g. 12 or 3.5.")) from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValidationError(_("Enter a number, e.g. 12 or 3.5."))
        return int(number) if number == number.to_integral_value() else float(number)
    if custom.kind == FieldKind.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
    if text not in custom.choices:
        raise ValidationError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(custom.choices)})
    return text


def clean_phone(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        return ""
    digits = re.sub(r"[\s\-()]", "", text).removeprefix("+")
    if not digits.isdigit() or not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1]:
        raise ValidationError(_("Enter a phone number of 5 to 20 digits (country code optional)."))
    return digits


def clean_birthday(raw: Any) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.date):
        day = raw
    else:
        try:
            day = dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None
    if day > timezone.localdate() or day.year < 1900:
        raise ValidationError(_("Enter a birthday between 1900 and today."))
    return day


_UNSET: Any = object()


def update_profile(
    workspace: Workspace,
    membership: Membership | None,
    customer_id: int,
    *,
    phone: Any = _UNSET,
    birthday: Any = _UNSET,
    fields: dict[str, Any] | None = None,
) -> Customer:
    """Change the brand's own profile fields: phone, birthday and custom field values (only the
    ones given; an empty value clears). Every value is checked by its kind first; errors come
    back keyed `phone`, `birthday` and `field_<key>`. A change goes on the timeline
    (FIELD_CHANGED, the phone never written out) and segments and lifecycle are told."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    customer = scoped(Customer.objects.for_workspace(workspace), workspace, membership).get(pk=customer_id)
    definitions = {f.key: f for f in CustomField.objects.for_workspace(workspace)}
    errors: dict[str, list[str]] = {}
    updates: dict[str, Any] = {}
    notes: list[str] = []
    if phone is not _UNSET:
        try:
            new_phone = clean_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
        else:
            if new_phone != customer.phone:
                updates["phone"] = new_phone
                notes.append(_("phone changed") if new_phone else _("phone cleared"))
    if birthday is not _UNSET:
        try:
            new_birthday = clean_birthday(birthday)
        except ValidationError as exc:
            errors["birthday"] = exc.messages
        else:
            if new_birthday != customer.birthday:
                updates["birthday"] = new_birthday
                notes.append(_("birthday: %(day)s") % {"day": new_birthday.isoformat() if new_birthday else "—"})
    values = dict(customer.fields or {})
    for key, raw in (fields or {}).items():
        custom = definitions.get(key)
        if custom is None:
            errors[f"field_{key}"] = [_("No custom field has this key.")]
            continue
        try:
            value = clean_value(custom, raw)
        except ValidationError as exc:
            errors[f"field_{key}"] = exc.messages
            continue
        if value is None and key in values:
            values.pop(key)
            notes.append(_("%(label)s cleared") % {"label": custom.label})
        elif value is not None and values.get(key) != value:
            values[key] = value
            notes.append(f"{custom.label}: {value}")
    if errors:
        raise ValidationError(errors)
    if values != (customer.fields or {}):
        updates["fields"] = values
    if not updates:
        return customer
    audited = []
    if "phone" in updates:  # the number itself stays out of the log
        audited.append(fact(gettext_lazy("phone"), gettext_lazy("changed") if updates["phone"] else gettext_lazy("cleared")))
    if "birthday" in updates:
        audited.append(change(gettext_lazy("birthday"), customer.birthday, updates["birthday"]))
    old_values = customer.fields or {}
    for key in definitions:
        if old_values.get(key) != values.get(key):
            audited.append(change(definitions[key].label, old_values.get(key), values.get(key)))
    with transaction.atomic():
        Customer.unscoped.filter(pk=customer.pk).update(**updates)
        add_timeline(workspace, customer, TimelineKind.FIELD_CHANGED, timezone.now(), detail="; ".join(notes))
        customers_changed(workspace, [customer.pk], "fields")
        audit_change(workspace, membership, AuditAction.UPDATED, module="customers", subject=gettext_lazy("customer profile"),
                     name=str(customer), changes=[a for a in audited if "before" in a],
                     facts=[a for a in audited if "value" in a])
    for name, value in updates.items():
        setattr(customer, name, value)
    return customer


# --- remarks (WeCom externalcontact/remark) -----------------------------------------------------

def remark_follow(
    workspace: Workspace,
    membership: Membership | None,
    customer_id: int,
    relation_id: int,
    *,
    remark: str,
    description: str,
) -> FollowRelation:
    """Set the remark (≤ 20 characters) and description (≤ 150) one staff account keeps on the
    customer: at WeCom first (`externalcontact/remark`), then locally with a REMARKED entry, as
    WeCom sends no callback for it. A WeCom refusal changes nothing and says why."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    customer_id = scoped(Customer.objects.for_workspace(workspace), workspace, membership).get(pk=customer_id).pk
    relation = (FollowRelation.objects.for_workspace(workspace).select_related("account", "customer")
                .get(pk=relation_id, customer_id=customer_id))
    remark, description = (remark or "").strip(), (description or "").strip()
    errors: dict[str, list[str]] = {}
    if len(remark) > REMARK_MAX_CHARS:
        errors["remark"] = [_("WeCom allows at most %(n)s characters.") % {"n": REMARK_MAX_CHARS}]
    if len(description) > DESCRIPTION_MAX_CHARS:
        errors["description"] = [_("WeCom allows at most %(n)s characters.") % {"n": DESCRIPTION_MAX_CHARS}]
    if relation.deleted_at is not None:
        errors.setdefault("remark", []).append(_("This staff account is no longer the customer's friend."))
    if errors:
        raise ValidationError(errors)
    if (remark, description) == (relation.remark, relation.description):
        return relation
    try:
        with client_for(workspace) as client:
            client.remark_customer(relation.account.userid, relation.customer.external_userid,
                                   remark=remark, description=description)
    except NotConnected as exc:
        raise ValidationError(str(exc)) from exc
    except WeComError as exc:
        raise ValidationError(_("WeCom refused the remark (%(code)s: %(msg)s).")
                              % {"code": exc.errcode, "msg": exc.errmsg}) from exc
    with transaction.atomic():
        FollowRelation.unscoped.filter(pk=relation.pk).update(remark=remark, description=description)
        detail = remark + (f" · {description}" if description else "")
        add_timeline(workspace, relation.customer, TimelineKind.REMARKED, timezone.now(),
                     account_id=relation.account_id, detail=detail or _("remark cleared"))
        audit_change(workspace, membership, AuditAction.UPDATED, module="customers", subject=gettext_lazy("remark"),
                     name=f"{relation.customer} · {relation.account}",
                     changes=changes({"remark": relation.remark, "description": relation.description},
                                     {"remark": remark, "description": description},
                                     {"remark": gettext_lazy("remark"), "description": gettext_lazy("description")}))
    relation.remark, relation.description = remark, description
    return relation


def keep_wecom_remark(workspace: Workspace, customer_id: int, account_id: int, remark: str, description: str) -> bool:
    """Keep the remark and description staff set in the WeCom client (an `edit_external_contact`
    callback, then `externalcontact/get`). True when it changed; a REMARKED entry says so."""
    remark, description = (remark or "")[:REMARK_MAX_CHARS], (description or "")[:DESCRIPTION_MAX_CHARS]
    with transaction.atomic():
        changed = FollowRelation.objects.for_workspace(workspace).filter(
            customer_id=customer_id, account_id=account_id).exclude(remark=remark, description=description).update(
            remark=remark, description=description)
        if changed:
            detail = remark + (f" · {description}" if description else "")
            add_timeline(workspace, Customer(pk=customer_id), TimelineKind.REMARKED, timezone.now(),
                         account_id=account_id, detail=_("In WeCom: %(remark)s") % {"remark": detail or "—"})
    return bool(changed)


# --- WeCom's side of the profile ----------------------------------------------------------------

def ensure_profile(workspace: Workspace, customer: Customer, client: WeComClient | None = None) -> Customer:
    """Fill the customer's nickname, avatar, gender and unionid from WeCom (`externalcontact/get`)
    the first time; afterwards nothing is fetched. A WeCom error leaves the record as it was.
    `client`: one already open for the brand (a sender's pool), else one is opened."""
    if customer.profile_synced_at is not None:
        return customer
    try:
        if client is not None:
            contact = client.get_customer(customer.external_userid).external_contact
        else:
            with client_for(workspace) as own:
                contact = own.get_customer(customer.external_userid).external_contact
    except (WeComError, NotConnected) as exc:
        logger.warning("profile of %s not fetched: %s", customer.external_userid, exc)
        return customer
    values = {
        "name": contact.name[:64], "avatar_url": contact.avatar[:500], "unionid": contact.unionid[:64],
        "gender": contact.gender if contact.gender in Customer.Gender.values else Customer.Gender.UNKNOWN,
        "corp_name": contact.corp_name[:64], "profile_synced_at": timezone.now(),
    }
    Customer.unscoped.filter(pk=customer.pk).update(**values)
    for name, value in values.items():
        setattr(customer, name, value)
    return customer


# --- the profile page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldValue:
    field: CustomField
    value: Any


@dataclass(frozen=True)
class CustomerProfile:
    customer: Customer
    follows: list[FollowRelation]
    timeline: list[TimelineEntry]
    phone: str = ""  # as the viewer's role may see it
    field_values: list[FieldValue] = field(default_factory=list)
    can_edit: bool = False


def customer_profile(workspace: Workspace, membership: Membership | None, customer_id: int) -> CustomerProfile:
    """One customer with every follow relation, custom field values and the newest 200
    timeline entries; the phone masked unless the role may see it. Another brand's customer is
    not found (DoesNotExist), never shown."""
    with workspace_context(workspace):  # prefetches read other apps' rows through their scoped managers
        customer = customers_query(workspace, membership).get(pk=customer_id)
    timeline = list(TimelineEntry.objects.for_workspace(workspace).filter(customer=customer)
                    .select_related("account").order_by("-at", "-id")[:TIMELINE_LIMIT])
    definitions = CustomField.objects.for_workspace(workspace).order_by("position", "id")
    values = [FieldValue(f, (customer.fields or {}).get(f.key)) for f in definitions]
    return CustomerProfile(customer, list(customer.follows.all()), timeline,
                           phone=shown_phone(customer.phone, role_of(membership)), field_values=values,
                           can_edit=can_edit(membership))
