"""Who is on the phone: staff and fan sessions, signed links to fans, and the OAuth round trip.

Each session is a signed cookie of its own (`siyu_staff`, `siyu_fan`), scoped to `/m/`, never
Django's console session: a fan cookie names an openid, a staff cookie a staff account, and no
console view reads either, so neither steps into the console. Cookies are HttpOnly and
SameSite=Lax; their signature (Django's `SECRET_KEY`) carries the time they were issued, so
they expire without a table.

A **link to a fan** (`fan_link`) is signed and expires: it names the brand, the page and, when
it was written for one customer, that customer; opened by anyone else, it is refused.
The OAuth **state** is a random nonce kept in a short cookie beside the link it returns to, so a
code arriving from another browser's flow is refused.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

STAFF_COOKIE = "siyu_staff"
FAN_COOKIE = "siyu_fan"
STATE_COOKIE = "siyu_m_state"
COOKIE_PATH = "/m/"
STAFF_HOURS = 12  # a working day in the WeCom app, then OAuth again (silent: no password)
FAN_DAYS = 7
STATE_MINUTES = 10
LINK_DAYS = 7

_STAFF_SALT = "siyu.mobile.staff"
_FAN_SALT = "siyu.mobile.fan"
_LINK_SALT = "siyu.mobile.link"
_STATE_SALT = "siyu.mobile.state"


class LinkRefused(Exception):
    """A fan link that was tampered with (`expired` False) or is past its date (`expired` True)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired" if expired else "bad signature")
        self.expired = expired


@dataclass(frozen=True)
class StaffSession:
    workspace_id: int
    account_id: int


@dataclass(frozen=True)
class FanSession:
    workspace_id: int
    openid: str
    unionid: str
    customer_id: int | None  # None: a WeChat user who is not (yet) the brand's customer


@dataclass(frozen=True)
class FanLink:
    workspace_id: int
    page: str
    customer_id: int | None


def _set(response: HttpResponse, request: HttpRequest, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=request.is_secure())


def _read(request: HttpRequest, name: str, salt: str, max_age: dt.timedelta) -> Any:
    raw = request.COOKIES.get(name)
    if not raw:
        return None
    try:
        return signing.loads(raw, salt=salt, max_age=max_age)
    except signing.BadSignature:  # tampered, or older than max_age (SignatureExpired is a subclass)
        return None


# --- staff ----------------------------------------------------------------------------------------

def start_staff_session(request: HttpRequest, response: HttpResponse, workspace_id: int, account_id: int) -> None:
    _set(response, request, STAFF_COOKIE, signing.dumps([workspace_id, account_id], salt=_STAFF_SALT),
         STAFF_HOURS * 3600)


def staff_session(request: HttpRequest, workspace_id: int) -> StaffSession | None:
    """The staff session of this brand, or None (none, tampered, expired, or another brand's)."""
    value = _read(request, STAFF_COOKIE, _STAFF_SALT, dt.timedelta(hours=STAFF_HOURS))
    if not (isinstance(value, list) and len(value) == 2 and value[0] == workspace_id):
        return None
    return StaffSession(int(value[0]), int(value[1]))


# --- fans -----------------------------------------------------------------------------------------

def start_fan_session(request: HttpRequest, response: HttpResponse, fan: FanSession) -> None:
    value = signing.dumps([fan.workspace_id, fan.openid, fan.unionid, fan.customer_id], salt=_FAN_SALT)
    _set(response, request, FAN_COOKIE, value, FAN_DAYS * 86400)


def fan_session(request: HttpRequest, workspace_id: int) -> FanSession | None:
    value = _read(request, FAN_COOKIE, _FAN_SALT, dt.timedelta(days=FAN_DAYS))
    if not (isinstance(value, list) and len(value) == 4 and value[0] == workspace_id):
        return None
    return FanSession(int(value[0]), str(value[1]), str(value[2]), value[3] if isinstance(value[3], int) else None)


def fan_token(workspace_id: int, page: str, customer_id: int | None = None, *, days: int = LINK_DAYS,
              now: dt.datetime | None = None) -> str:
    """The signed part of a link to a fan page; it stops working `days` after `now`."""
    expires = int(((now or timezone.now()) + dt.timedelta(days=days)).timestamp())
    return signing.dumps([workspace_id, page, customer_id, expires], salt=_LINK_SALT, compress=True)


def open_fan_token(token: str, now: dt.datetime | None = None) -> FanLink:
    try:
        workspace_id, page, customer_id, expires = signing.loads(token, salt=_LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkRefused(expired=False) from exc
    if (now or timezone.now()).timestamp() > expires:
        raise LinkRefused(expired=True)
    return FanLink(int(workspace_id), str(page), customer_id if isinstance(customer_id, int) else None)


# --- the OAuth round trip -------------------------------------------------------------------------

def start_oauth(request: HttpRequest, response: HttpResponse, back_to: str) -> str:
    """A fresh state for the authorize URL; the browser keeps it, with where to return after."""
    state = secrets.token_urlsafe(12)
    _set(response, request, STATE_COOKIE, signing.dumps([state, back_to], salt=_STATE_SALT), STATE_MINUTES * 60)
    return state


def finish_oauth(request: HttpRequest, state: str) -> str | None:
    """Where to return, if `state` is the one this browser was given; else None."""
    value = _read(request, STATE_COOKIE, _STATE_SALT, dt.timedelta(minutes=STATE_MINUTES))
    if not (isinstance(value, list) and len(value) == 2 and state and secrets.compare_digest(str(value[0]), state)):
        return None
    return str(value[1])
