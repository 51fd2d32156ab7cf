"""`GET /twin/` — a plain HTML page to look inside the twin: who is there, who is friends with
whom, which groups, codes and tags exist, what customers received and which callbacks went out.

Server-rendered, no scripts; every value is escaped. `GET /twin/state` gives the same as JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECENT = 50  # rows shown for messages and callbacks, newest first

STYLE = (
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}.counts span{margin-right:1.2rem}"
)


def _time(value: float | int | None) -> str:
    if not value:
        return ""
    return dt.datetime.fromtimestamp(float(value), SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = "; ".join(f"{k}={v}" for k, v in value.items())
    return f"<td>{escape('' if value is None else str(value))}</td>"


def _table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = list(rows)
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">none</td></tr>'
    return f"<h2>{escape(title)} ({len(rows)})</h2><table><tr>{head}</tr>{body}</table>"


def _statuses(sends: list[dict[str, Any]]) -> str:
    names = {0: "pending", 1: "sent", 2: "not a friend", 3: "over the limit"}
    counts = {name: sum(1 for s in sends if s["status"] == code) for code, name in names.items()}
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n)


def _mass_options(task: dict[str, Any]) -> str:
    flags = [
        "cancelled" if task["cancelled"] else "",
        "allow_select" if task.get("allow_select") else "",
        "tag_filter" if task.get("tag_filter") else "",
        f"{len(task['reminders'])} reminder(s)" if task["reminders"] else "",
    ]
    return ", ".join(f for f in flags if f)


def render(state: dict[str, Any]) -> str:
    """The page for a `/twin/state` snapshot (world plus callbacks)."""
    counts = {
        "staff": len(state["staff"]),
        "customers": len(state["customers"]),
        "friendships": len(state["friendships"]),
        "groups": len(state["groups"]),
        "tags": sum(len(g["tags"]) for g in state["tag_groups"]),
        "contact ways": len(state["contact_ways"]),
        "join ways": len(state["join_ways"]),
        "mass messages": len(state["mass_tasks"]),
        "transfers": len(state["transfers"]),
        "received messages": len(state["messages"]),
        "staff notices": len(state.get("notices", [])),
        "callbacks": len(state["callbacks"]),
    }
    messages = sorted(state["messages"], key=lambda m: m["received_at"], reverse=True)[:RECENT]
    callbacks = list(reversed(state["callbacks"]))[:RECENT]
    sections = [
        '<p class="counts">'
        + "".join(f"<span>{escape(k)}: <b>{v}</b></span>" for k, v in counts.items())
        + "</p>",
        _table(
            "Staff",
            ["userid", "name", "departments", "friends / capacity", "resigned"],
            (
                [s["userid"], s["name"], s["department"], f"{s['friends']} / {s['capacity']}"]
                + [_time(s.get("resigned_at"))]
                for s in state["staff"]
            ),
        ),
        _table(
            "Customers",
            ["external_userid", "name", "gender", "attributes"],
            (
                [c["external_userid"], c["name"], c["gender"], c["attributes"]]
                for c in state["customers"]
            ),
        ),
        _table(
            "Friendships",
            ["staff", "customer", "added", "state", "remark", "tags"],
            (
                [f["userid"], f["external_userid"], _time(f["createtime"])]
                + [f["state"], f["remark"], f["tag_ids"]]
                for f in state["friendships"]
            ),
        ),
        _table(
            "Groups",
            ["chat_id", "name", "owner", "members", "status", "dismissed"],
            (
                [g["chat_id"], g["name"], g["owner"], g["member_count"], g["status"]]
                + [g["dismissed"]]
                for g in state["groups"]
            ),
        ),
        _table(
            "Tags",
            ["group", "tag id", "tag"],
            ([g["group_name"], t["id"], t["name"]] for g in state["tag_groups"] for t in g["tags"]),
        ),
        _table(
            "Contact ways",
            ["config_id", "type", "state", "remark", "users", "parties"],
            (
                [w["config_id"], w["type"], w["state"], w["remark"], w["user"], w["party"]]
                for w in state["contact_ways"]
            ),
        ),
        _table(
            "Join ways",
            ["config_id", "scene", "state", "remark", "groups", "auto create"],
            (
                [w["config_id"], w["scene"], w["state"], w["remark"], w["chat_id_list"]]
                + [w["auto_create_room"]]
                for w in state["join_ways"]
            ),
        ),
        _table(
            f"Received messages (latest {RECENT})",
            ["received", "kind", "from", "to", "msgid", "text"],
            (
                [_time(m["received_at"]), m["kind"], m["userid"]]
                + [m["chat_id"] or m["external_userid"], m["msgid"], m["text"]]
                for m in messages
            ),
        ),
        _table(
            f"Mass messages (latest {RECENT})",
            ["msgid", "type", "created", "senders sent", "recipients by status", "options"],
            (
                [t["msgid"], t["chat_type"], _time(t["create_time"])]
                + [f"{len(t['confirmed'])} / {len({s['userid'] for s in t['sends']})}"]
                + [_statuses(t["sends"]), _mass_options(t)]
                for t in list(reversed(state["mass_tasks"]))[:RECENT]
            ),
        ),
        _table(
            f"Staff notices (latest {RECENT})",
            ["sent", "to", "type", "msgid", "content"],
            (
                [_time(n["sent_at"]), n["userid"], n["msgtype"], n["msgid"], n["content"]]
                for n in list(reversed(state.get("notices", [])))[:RECENT]
            ),
        ),
        _table(
            f"Sent from the chat sidebar (sendChatMessage, latest {RECENT})",
            ["sent", "staff", "to", "type", "content"],
            (
                [_time(m["sent_at"]), m["userid"], m["chat_id"] or m["external_userid"]]
                + [m["msgtype"], m["payload"]]
                for m in list(reversed(state.get("jssdk_sent", [])))[:RECENT]
            ),
        ),
        _table(
            f"Service-account template messages (latest {RECENT})",
            ["sent", "openid", "customer", "template", "data"],
            (
                [_time(m["sent_at"]), m["touser"], m["external_userid"], m["template_id"], m["data"]]
                for m in list(reversed(state.get("templates_sent", [])))[:RECENT]
            ),
        ),
        _table(
            f"Callback deliveries (latest {RECENT})",
            ["id", "kind", "status", "attempts", "created"],
            (
                [d["id"], d["kind"], d["status"]]
                + [[a["outcome"] for a in d["attempts"]], _time(d["created_at"])]
                for d in callbacks
            ),
        ),
    ]
    title = f"WeCom twin — {state['corp_id']}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>Twin clock: {escape(_time(state['now']))} (offset {state['clock_offset']:.0f} s)</p>"
        + "".join(sections)
        + "</body></html>"
    )
