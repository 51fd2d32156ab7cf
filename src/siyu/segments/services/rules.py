"""人群规则 — the rule language: a tree of AND/OR groups of conditions.

    {"match": "and", "rules": [
        {"field": "tags", "op": "any", "value": [12, 13]},
        {"match": "or", "rules": [{"field": "stage", "op": "in", "value": ["engaged"]},
                                  {"field": "score", "op": "gte", "value": 60}]}]}

An empty group selects every customer. `clean_rule` checks a rule against the brand's field
registry and returns it normalised (or raises ValidationError whose messages say which
condition is wrong and why); `rule_q` turns a clean rule into one `Q` over `Customer`;
`matches` evaluates it in Python over a `CustomerSnapshot`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from siyu.core import bounds
from siyu.core.models import Workspace
from siyu.customers.segmentation import (
    OPERATOR_LABELS,
    Context,
    CustomerSnapshot,
    SegmentField,
    fields_for,
)

MATCHES = ("and", "or")
MAX_DEPTH = 4
MAX_CONDITIONS = 50
EVERYONE: dict[str, Any] = {"match": "and", "rules": []}


def clean_rule(workspace: Workspace, rule: Any) -> dict[str, Any]:
    """The rule, checked and normalised; ValidationError listing every problem found."""
    # Text with NUL or an unpaired surrogate, numbers past a database integer or infinite
    # (JSON's 1e400), from the API or the builder's JSON alike: refused before anything else.
    bounds.check(rule)
    fields = fields_for(workspace)
    problems: list[str] = []
    counter = [0]
    cleaned = _clean_group(workspace, fields, rule, 1, "", problems, counter)
    if counter[0] > MAX_CONDITIONS:
        problems.append(_("A rule may have at most %(n)s conditions.") % {"n": MAX_CONDITIONS})
    if problems:
        raise ValidationError(problems)
    return cleaned


def _clean_group(workspace: Workspace, fields: dict[str, SegmentField], group: Any, depth: int, where: str,
                 problems: list[str], counter: list[int]) -> dict[str, Any]:
    if not isinstance(group, dict) or group.get("match") not in MATCHES or not isinstance(group.get("rules"), list):
        problems.append(_("%(where)sa group needs “match” (and/or) and a list of “rules”.") % {"where": where})
        return EVERYONE
    if depth > MAX_DEPTH:
        problems.append(_("%(where)sgroups may be nested at most %(n)s deep.") % {"where": where, "n": MAX_DEPTH})
        return EVERYONE
    rules = []
    for index, item in enumerate(group["rules"], start=1):
        place = f"{where}{index}. " if not where else f"{where.rstrip('. ')}.{index}. "
        if isinstance(item, dict) and "match" in item:
            rules.append(_clean_group(workspace, fields, item, depth + 1, place, problems, counter))
            continue
        counter[0] += 1
        cleaned = _clean_condition(workspace, fields, item, place, problems)
        if cleaned is not None:
            rules.append(cleaned)
    return {"match": group["match"], "rules": rules}


def _clean_condition(workspace: Workspace, fields: dict[str, SegmentField], item: Any, where: str,
                     problems: list[str]) -> dict[str, Any] | None:
    if not isinstance(item, dict) or not isinstance(item.get("field"), str) or not isinstance(item.get("op"), str):
        problems.append(_("%(where)sa condition needs a field, an operator and a value.") % {"where": where})
        return None
    field = fields.get(item["field"])
    if field is None:
        problems.append(_("%(where)sthere is no field “%(field)s”.") % {"where": where, "field": item["field"]})
        return None
    try:
        value = field.clean(workspace, item["op"], item.get("value"))
    except ValidationError as exc:
        problems.extend(f"{where}{message}" for message in exc.messages)
        return None
    return {"field": field.key, "op": item["op"], "value": value}


def rule_q(ctx: Context, rule: dict[str, Any], fields: dict[str, SegmentField] | None = None) -> Q:
    """One Q over `Customer` for a clean rule (no workspace filter: the caller scopes it).
    `fields`: the brand's registry when the caller already has it (one lookup for many rules)."""
    return _group_q(ctx, fields if fields is not None else fields_for(ctx.workspace), rule)


def _group_q(ctx: Context, fields: dict[str, SegmentField], group: dict[str, Any]) -> Q:
    parts = [_group_q(ctx, fields, item) if "match" in item else _condition_q(ctx, fields, item)
             for item in group["rules"]]
    if not parts:
        return Q(pk__isnull=False)  # everyone (a bare Q() would vanish inside an OR)
    q = parts[0]
    for part in parts[1:]:
        q = (q & part) if group["match"] == "and" else (q | part)
    return q


def _condition_q(ctx: Context, fields: dict[str, SegmentField], item: dict[str, Any]) -> Q:
    field = fields.get(item["field"])
    if field is None:  # e.g. a custom field deleted since the rule was saved
        raise ValidationError(_("there is no field “%(field)s”; edit the rule.") % {"field": item["field"]})
    return field.to_q(item["op"], item["value"], ctx)


def matches(ctx: Context, rule: dict[str, Any], snapshot: CustomerSnapshot) -> bool:
    """The same rule evaluated in Python (brute force; for tests and single-customer checks)."""
    fields = fields_for(ctx.workspace)
    return _group_matches(ctx, fields, rule, snapshot)


def _group_matches(ctx: Context, fields: dict[str, SegmentField], group: dict[str, Any], snap: CustomerSnapshot) -> bool:
    results = (
        _group_matches(ctx, fields, item, snap) if "match" in item
        else fields[item["field"]].test(snap, item["op"], item["value"], ctx)
        for item in group["rules"]
    )
    if not group["rules"]:
        return True
    return all(results) if group["match"] == "and" else any(results)


def fields_used(rule: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for item in rule.get("rules", []):
        found |= fields_used(item) if "match" in item else {item["field"]}
    return found


def summary(workspace: Workspace, rule: dict[str, Any]) -> str:
    """The rule in words, for the segment list and detail page, e.g.
    "Tags has any of 肤质 / 干皮 AND (Lifecycle stage is one of Engaged OR Super-user score at least 60)"."""
    fields = fields_for(workspace)
    labels: dict[str, dict[Any, str]] = {}

    def value_text(key: str, value: Any) -> str:
        field = fields.get(key)
        if field is not None and field.options is not None and key not in labels:
            labels[key] = {v: str(label) for v, label in field.options(workspace)}
        names = labels.get(key, {})
        values = value if isinstance(value, list) else [value]
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return ", ".join(names.get(v, str(v)) for v in values)

    def group_text(group: dict[str, Any], nested: bool) -> str:
        joiner = " " + (_("AND") if group["match"] == "and" else _("OR")) + " "
        parts = []
        for item in group.get("rules", []):
            if "match" in item:
                parts.append(group_text(item, True))
                continue
            field = fields.get(item["field"])
            label = str(field.label) if field else item["field"]
            op = str(OPERATOR_LABELS.get(item["op"], item["op"]))
            if item["op"] == "between":
                parts.append(f"{label} {op} {item['value'][0]} – {item['value'][1]}")
            elif isinstance(item["value"], bool):  # "Angel user: yes", not "Angel user is yes"
                parts.append(_("%(label)s: %(value)s") % {"label": label,
                                                           "value": value_text(item["field"], item["value"])})
            else:
                parts.append(f"{label} {op} {value_text(item['field'], item['value'])}")
        if not parts:
            return _("everyone")
        text = joiner.join(parts)
        return f"({text})" if nested and len(parts) > 1 else text

    return group_text(rule or EVERYONE, False)
