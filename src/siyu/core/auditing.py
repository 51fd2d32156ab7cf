"""审计日志 — the audit log: writing entries, reading them back as sentences, searching them.

An entry stores structured details (JSON), never sentences: labels are stored as their msgids
(`{"msgid": "welcome message"}`) and translated when the entry is shown, so the same entry reads
in Chinese or English. One formatter per action turns the details into text (`describe`).

Only changes people make (console, API, command line) are written. Background work (callbacks,
subscribers, syncs run by the scheduler) writes no entries, so the hot paths stay free of writes.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from siyu.core.days import day_start
from siyu.core.models import AuditAction, AuditEntry, Membership, Workspace
from siyu.core.permissions import Role

# The table shows each value cut to this many characters; the full text is one click away.
SHORT_VALUE_CHARS = 60

# The module filter's names for the apps that write entries. An app not listed shows its
# Django `verbose_name`.
MODULE_LABELS: dict[str, Promise] = {
    "core": pgettext_lazy("audit module", "Team & sign-in"),
    "wecom": pgettext_lazy("audit module", "WeCom connection"),
    "ip": pgettext_lazy("audit module", "Brand IP"),
    "accounts": pgettext_lazy("audit module", "Staff accounts"),
    "customers": pgettext_lazy("audit module", "Customers"),
    "tags": pgettext_lazy("audit module", "Tags"),
    "segments": pgettext_lazy("audit module", "Segments"),
    "lifecycle": pgettext_lazy("audit module", "Lifecycle"),
    "channels": pgettext_lazy("audit module", "Channel codes"),
}

# What entries written before entries carried a module belonged to.
CORE_ACTIONS = (
    AuditAction.LOGIN, AuditAction.LOGIN_FAILED, AuditAction.LOGIN_LOCKED, AuditAction.WORKSPACE_CREATED,
    AuditAction.MEMBER_INVITED, AuditAction.MEMBER_JOINED, AuditAction.ROLE_CHANGED, AuditAction.MEMBER_REMOVED,
    AuditAction.TOKEN_CREATED, AuditAction.TOKEN_DELETED, AuditAction.TASK_RETRIED, AuditAction.PASSWORD_CHANGED,
)


# --- writing ---------------------------------------------------------------------------------

def label(text: Any) -> Any:
    """A label as it is stored: a lazy translation becomes its msgid (and context), so the
    entry is translated when read; anything else is kept as text."""
    if isinstance(text, Promise):
        _unpickle, (func, args, _kw, *_rest) = text.__reduce__()  # type: ignore[misc]
        if len(args) == 1 and isinstance(args[0], str):
            return {"msgid": args[0]}
        if len(args) == 2 and all(isinstance(a, str) for a in args):
            return {"msgid": args[1], "ctx": args[0]}
        return str(text)
    return text


def plain(value: Any) -> Any:
    """A value as JSON can hold it, for a change's before and after."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Promise):
        return label(value)
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def change(field_label: Any, before: Any, after: Any) -> dict[str, Any]:
    """One change, `label: before → after`."""
    return {"label": label(field_label), "before": plain(before), "after": plain(after)}


def fact(field_label: Any, value: Any) -> dict[str, Any]:
    """One fact about the action with no before (a customer redeemed for, a row count)."""
    return {"label": label(field_label), "value": plain(value)}


def _model_field(instance: models.Model, name: str) -> models.Field[Any, Any]:
    field = instance._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{name} is a reverse relation, not a field")
    return field


def _field_value(instance: models.Model, name: str) -> Any:
    field = _model_field(instance, name)
    if isinstance(field, models.ForeignKey):
        if getattr(instance, field.attname) is None:
            return None
        related = getattr(instance, name)
        user = getattr(related, "user", None) if isinstance(related, Membership) else None
        return user.get_username() if user is not None else str(related)
    if isinstance(field, models.ManyToManyField):
        return sorted(str(o) for o in getattr(instance, name).all())
    value = getattr(instance, field.attname)
    if isinstance(field, models.FileField):
        return os.path.basename(value.name) if value else ""
    if field.choices and not isinstance(value, list | dict):
        return label(dict(field.flatchoices).get(value, value)) if value not in (None, "") else value
    return plain(value)


def snapshot(instance: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row as the audit log shows them: choices by their label, foreign
    keys by their name, files by their file name."""
    return {name: _field_value(instance, name) for name in names}


def changes(before: Mapping[str, Any], after: Mapping[str, Any],
            labels: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The changes between two snapshots, labelled; unchanged fields are left out."""
    return [change(labels[name], before.get(name), after.get(name))
            for name in labels if _blank(before.get(name)) != _blank(after.get(name))]


def _blank(value: Any) -> Any:
    return None if value in ("", [], {}) else value


def model_changes(before: Mapping[str, Any], instance: models.Model, names: Iterable[str],
                  labels: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The changes of a row since `before` (a `snapshot`), labelled with the fields'
    verbose names unless `labels` names them."""
    names = list(names)
    field_labels = {n: (labels or {}).get(n) or _model_field(instance, n).verbose_name for n in names}
    return changes(before, snapshot(instance, names), field_labels)


def _actor(seat: Any) -> Any:
    """The user of a seat, a user, or None for the command line and jobs."""
    if seat is None:
        return None
    if getattr(seat, "is_authenticated", False):
        return seat
    return getattr(seat, "user", None)


def audit(
    workspace: Workspace,
    actor: Any,
    action: AuditAction,
    target: str = "",
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
    module: str = "",
) -> AuditEntry:
    """Write one entry. `actor` is a user, a seat (its user is taken), a name (a failed
    sign-in's username) or None (the command line). `module` is the app's label."""
    user = _actor(actor)
    is_user = user is not None and getattr(user, "is_authenticated", False)
    if not module and action in CORE_ACTIONS:
        module = "core"
    return AuditEntry.objects.create(
        workspace=workspace,
        actor=user if is_user else None,
        actor_name=user.get_username() if is_user else ("" if actor is None or not isinstance(actor, str) else actor),
        module=module[:30],
        action=action,
        target=target[:200],
        detail=detail or {},
        ip_address=ip_address,
    )


def audit_change(
    workspace: Workspace,
    seat: Any,
    action: AuditAction,
    *,
    module: str,
    subject: Any,
    name: str,
    changes: list[dict[str, Any]] | None = None,
    facts: list[dict[str, Any]] | None = None,
    ip_address: str | None = None,
    data: Mapping[str, Any] | None = None,
    target: str | None = None,
) -> AuditEntry | None:
    """Record that `seat` created, changed, deleted or redeemed `subject` “name” (subject: a
    lazy label such as `_("channel code")`). A change that changed nothing writes no entry.
    `data` adds keys for programs (ids, counts) that the sentence does not show."""
    if action == AuditAction.UPDATED and not changes and not facts:
        return None
    detail: dict[str, Any] = {**(data or {}), "subject": label(subject), "name": name}
    if changes:
        detail["changes"] = changes
    if facts:
        detail["facts"] = facts
    return audit(workspace, seat, action, name if target is None else target, detail, ip_address, module=module)


# --- reading ---------------------------------------------------------------------------------

def _translated(value: Any) -> str:
    if isinstance(value, dict) and "msgid" in value:
        msgid = str(value["msgid"])
        text = pgettext(str(value["ctx"]), msgid) if value.get("ctx") else _(msgid)
        params = value.get("params")
        return text % params if isinstance(params, dict) else text
    return str(value)


def worded(msgid: str, **params: Any) -> dict[str, Any]:
    """A value written as a message with parameters, translated when read: mark the msgid with
    `gettext_noop` where it is written, e.g. `worded(gettext_noop("%(account)s (backup)"), account=name)`."""
    return {"msgid": msgid, "params": {k: plain(v) for k, v in params.items()}}


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + "…"


def show_value(value: Any, limit: int | None = None) -> str:
    """A before or after value in the reader's language."""
    if value is None or value == "" or value == []:
        return _("(empty)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return _cut(pgettext("list separator", ", ").join(show_value(v) for v in value), limit)
    if isinstance(value, dict) and "msgid" not in value:  # a mapping: its pairs
        return _cut(pgettext("list separator", ", ").join(
            f"{k}: {show_value(v)}" for k, v in value.items()), limit)
    return _cut(_translated(value), limit)


def _changes_text(detail: Mapping[str, Any], limit: int | None) -> str:
    parts = []
    for item in detail.get("changes") or []:
        parts.append(_("%(field)s: %(before)s → %(after)s") % {
            "field": capfirst(_translated(item.get("label", ""))),
            "before": show_value(item.get("before"), limit),
            "after": show_value(item.get("after"), limit),
        })
    for item in detail.get("facts") or []:
        parts.append(pgettext("audit fact", "%(field)s: %(value)s") % {
            "field": capfirst(_translated(item.get("label", ""))), "value": show_value(item.get("value"), limit)})
    return pgettext("audit separator", "; ").join(parts)


def _subject(detail: Mapping[str, Any], limit: int | None) -> dict[str, str]:
    return {"subject": _translated(detail.get("subject", "")), "name": _cut(str(detail.get("name", "")), limit)}


def _with_changes(head: str, detail: Mapping[str, Any], limit: int | None) -> str:
    rest = _changes_text(detail, limit)
    return pgettext("audit", "%(head)s: %(changes)s") % {"head": head, "changes": rest} if rest else head


def _role(value: Any) -> str:
    return str(dict(Role.choices).get(value, value or ""))


def _created(d: Mapping[str, Any], limit: int | None) -> str:
    return _with_changes(_("Created %(subject)s “%(name)s”") % _subject(d, limit), d, limit)


def subject_text(d: Mapping[str, Any], limit: int | None = None) -> str:
    """What an entry is about, e.g. 渠道码「门店A」; the subject alone when it has no name."""
    parts = _subject(d, limit)
    return capfirst(_("%(subject)s “%(name)s”") % parts if parts["name"] else parts["subject"])


def _updated(d: Mapping[str, Any], limit: int | None) -> str:
    return _with_changes(subject_text(d, limit), d, limit)


def _deleted(d: Mapping[str, Any], limit: int | None) -> str:
    if "subject" not in d:  # entries written before details were structured: {"name": ...}
        return _("Deleted “%(name)s”") % {"name": _cut(str(d.get("name", "")), limit)}
    return _with_changes(_("Deleted %(subject)s “%(name)s”") % _subject(d, limit), d, limit)


def _redeemed(d: Mapping[str, Any], limit: int | None) -> str:
    return _with_changes(_("Redeemed %(subject)s “%(name)s”") % _subject(d, limit), d, limit)


def _role_changed(d: Mapping[str, Any], limit: int | None) -> str:
    return _("Role: %(before)s → %(after)s") % {"before": _role(d.get("from")), "after": _role(d.get("to"))}


def _with_role(d: Mapping[str, Any], limit: int | None) -> str:
    return _("Role: %(role)s") % {"role": _role(d.get("role"))}


def _failures(d: Mapping[str, Any], limit: int | None) -> str:
    return _("%(count)s failed attempts in a row") % {"count": d.get("failures", "?")}


def _password_changed(d: Mapping[str, Any], limit: int | None) -> str:
    return _("%(count)s API tokens revoked") % {"count": d.get("tokens_revoked", 0)}


def _token_deleted(d: Mapping[str, Any], limit: int | None) -> str:
    return _("Revoked because the password changed") if d.get("reason") == "password_changed" else ""


def _export(d: Mapping[str, Any], limit: int | None) -> str:
    if "subject" in d:
        head = (_("Exported %(subject)s “%(name)s”") if d.get("name") else _("Exported %(subject)s")) % _subject(d, limit)
        return _with_changes(head, d, limit)
    parts = [_("%(count)s rows") % {"count": d.get("rows", 0)}]
    if d.get("start") and d.get("end"):
        parts.append(_("%(start)s to %(end)s") % {"start": d["start"], "end": d["end"]})
    if d.get("columns"):
        parts.append(_("Columns: %(columns)s") % {"columns": show_value(list(d["columns"]), limit)})
    return pgettext("audit separator", "; ").join(parts)


def _settings_changed(d: Mapping[str, Any], limit: int | None) -> str:
    if "subject" in d:
        return _updated(d, limit)
    if isinstance(d.get("changed"), dict):  # the lifecycle policy, before details were structured
        return pgettext("audit separator", "; ").join(
            _("%(field)s: %(before)s → %(after)s") % {
                "field": k, "before": show_value(v[0] if isinstance(v, list) else v, limit),
                "after": show_value(v[1] if isinstance(v, list) and len(v) > 1 else v, limit)}
            for k, v in d["changed"].items())
    return _generic(d, limit)


def _transfer(d: Mapping[str, Any], limit: int | None) -> str:
    text = _("%(customers)s customers, %(accepted)s accepted by WeCom") % {
        "customers": d.get("customers", 0), "accepted": d.get("accepted", 0)}
    return text + (pgettext("audit separator", "; ") + _("Resigned staff") if d.get("resigned") else "")


def _task_retried(d: Mapping[str, Any], limit: int | None) -> str:
    return _("Run #%(run)s") % {"run": d.get("run", "?")}


def _generic(d: Mapping[str, Any], limit: int | None) -> str:
    if "subject" in d:
        return _updated(d, limit)
    return pgettext("audit separator", "; ").join(
        pgettext("audit fact", "%(field)s: %(value)s") % {"field": k, "value": show_value(v, limit)}
        for k, v in d.items())


FORMATTERS: dict[str, Callable[[Mapping[str, Any], int | None], str]] = {
    AuditAction.CREATED: _created,
    AuditAction.UPDATED: _updated,
    AuditAction.DELETION: _deleted,
    AuditAction.REDEEMED: _redeemed,
    AuditAction.ROLE_CHANGED: _role_changed,
    AuditAction.MEMBER_INVITED: _with_role,
    AuditAction.MEMBER_JOINED: _with_role,
    AuditAction.MEMBER_REMOVED: _with_role,
    AuditAction.LOGIN_FAILED: _failures,
    AuditAction.LOGIN_LOCKED: _failures,
    AuditAction.PASSWORD_CHANGED: _password_changed,
    AuditAction.TOKEN_DELETED: _token_deleted,
    AuditAction.EXPORT: _export,
    AuditAction.SETTINGS_CHANGED: _settings_changed,
    AuditAction.TRANSFER_REQUESTED: _transfer,
    AuditAction.TASK_RETRIED: _task_retried,
}


def describe(entry: AuditEntry, limit: int | None = None) -> str:
    """The entry's details as one sentence in the reader's language; with `limit`, each value
    is cut to that many characters."""
    detail = entry.detail if isinstance(entry.detail, dict) else {"detail": entry.detail}
    if not detail:
        return ""
    return FORMATTERS.get(entry.action, _generic)(detail, limit)


def module_label(module: str) -> str:
    if module in MODULE_LABELS:
        return str(MODULE_LABELS[module])
    try:
        return str(apps.get_app_config(module).verbose_name) if module else ""
    except LookupError:
        return module


def target_label(entry: AuditEntry, limit: int | None = None) -> str:
    """The entry's target for a table's column: 渠道码「门店A」, or the stored target."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    return subject_text(detail, limit) if "subject" in detail else _cut(entry.target, limit)


def details_text(entry: AuditEntry, limit: int | None = None) -> str:
    """The entry's details for a table beside its target and action: the changes and facts
    alone when the target column already says what the entry is about."""
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    return _changes_text(detail, limit) if "subject" in detail else describe(entry, limit)


def actor_label(entry: AuditEntry) -> str:
    return entry.actor_name or str(_("System"))


# --- searching -------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    """What the audit page and `/api/audit-log` narrow the log to. Days are Asia/Shanghai days,
    both ends included."""

    actor: str = ""
    module: str = ""
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def filtered(workspace: Workspace, wanted: AuditFilter) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.for_workspace(workspace)
    if wanted.actor:
        entries = entries.filter(actor_name=wanted.actor)
    if wanted.module:
        entries = entries.filter(module=wanted.module)
    if wanted.action:
        entries = entries.filter(action=wanted.action)
    if wanted.since:
        entries = entries.filter(at__gte=day_start(wanted.since))
    if wanted.until:
        entries = entries.filter(at__lt=day_start(wanted.until + dt.timedelta(days=1)))
    return entries


@dataclass(frozen=True)
class Choices:
    """The values the audit filters offer: people and modules that appear in the log."""

    actors: list[str]
    modules: list[tuple[str, str]]
    actions: list[tuple[str, str]]


def filter_choices(workspace: Workspace) -> Choices:
    entries = AuditEntry.objects.for_workspace(workspace).order_by()
    actors = sorted(a for a in entries.values_list("actor_name", flat=True).distinct() if a)
    modules = sorted(m for m in entries.values_list("module", flat=True).distinct() if m)
    return Choices(
        actors=actors,
        modules=[(m, module_label(m)) for m in modules],
        actions=[(value, str(text)) for value, text in AuditAction.choices],
    )

