"""Where a brand's WeCom API base URL may point: the server makes requests there, so an admin must
not be able to aim it at addresses inside our network.

WeCom's API is https on the standard port (`https://qyapi.weixin.qq.com/cgi-bin/`, WECOM.md §1).
A base URL is allowed if it is https on port 443 at a host name or a public IP address, or if it
starts with one of the operator's `SIYU_WECOM_ALLOWED_API_BASES` (comma-separated URL prefixes;
`*` as the port allows any port: `http://127.0.0.1:*/`). `siyu demo` allows its twin's address
that way, and the tests the twins they start on loopback ports.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

ANY_PORT = "*"


@dataclass(frozen=True)
class _Address:
    scheme: str
    host: str
    port: str  # digits, or ANY_PORT in an allowed base
    path: str  # ends with "/"


def _address(url: str) -> _Address | None:
    """The parts of an http(s) URL that decide where a request goes; None if it is not one (or
    carries credentials, a query or a fragment)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc or parts.query or parts.fragment:
        return None
    after_host = parts.netloc.rsplit("]", 1)[-1]  # an IPv6 literal has colons of its own
    port = after_host.rpartition(":")[2] if ":" in after_host else ""
    if not port:
        port = "443" if parts.scheme == "https" else "80"
    elif port != ANY_PORT and not (port.isdigit() and 0 < int(port) < 65536):
        return None
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return _Address(parts.scheme, host.rstrip(".").lower(), str(int(port)) if port.isdigit() else port, path)


def allowed_bases() -> list[str]:
    """The operator's extra allowed API bases (`SIYU_WECOM_ALLOWED_API_BASES`)."""
    return list(getattr(settings, "SIYU_WECOM_ALLOWED_API_BASES", []))


def _listed(address: _Address) -> bool:
    for entry in allowed_bases():
        allowed = _address(entry)
        if (
            allowed is not None
            and (allowed.scheme, allowed.host) == (address.scheme, address.host)
            and allowed.port in (ANY_PORT, address.port)
            and address.path.startswith(allowed.path)
        ):
            return True
    return False


def _public_https(address: _Address) -> bool:
    if address.scheme != "https" or address.port != "443":
        return False
    if address.host == "localhost" or address.host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.host)
    except ValueError:
        try:  # the forms the resolver also reads as IPv4: 2130706433, 0x7f.1, 127.1
            ip = ipaddress.IPv4Address(socket.inet_aton(address.host))
        except OSError:
            return True  # a host name
    return ip.is_global


def api_base_problem(url: str) -> str | None:
    """Why this API base URL may not be used (translated), or None if it may."""
    address = _address(url)
    if address is None:
        return _("Enter a web address such as https://qyapi.weixin.qq.com/cgi-bin/.")
    if _listed(address) or _public_https(address):
        return None
    return _(
        "Only https addresses on the standard port of a public host are allowed, such as "
        "https://qyapi.weixin.qq.com/cgi-bin/. An operator can allow other addresses with "
        "SIYU_WECOM_ALLOWED_API_BASES."
    )


def api_base_allowed(url: str) -> bool:
    address = _address(url)
    return address is not None and (_listed(address) or _public_https(address))
