"""活码下载 — a channel code's QR as a PNG download, a small cached thumbnail for the list, a zip
of several codes' QRs or posters, and a printable poster (海报) with the persona's avatar and name,
a headline the ops team writes (the persona's slogan by default, never the code's internal
name), the QR and a call to action.

A contact way's QR is the one WeCom made (`qr_code` of add_contact_way, WECOM.md §3), fetched
from its image URL: a code is only worth printing if it is the real one, so when the image
cannot be fetched the caller gets the reason, never a QR drawn here. An acquisition link (§7)
has no image at WeCom, only its URL, so its QR is drawn here from that URL (segno).
Posters need a CJK font (Noto Sans CJK from fonts-noto-cjk, or any font fontconfig lists for
Chinese); without one the text would print as empty boxes, so the poster is refused instead.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import segno
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.ip.models import MatrixLevel, Persona
from siyu.wecom.client import DownloadFailed, DownloadProblem, download

FETCH_TIMEOUT_SECONDS = 10.0
MAX_QR_BYTES = 2 * 1024 * 1024  # WeCom's QR images are tens of KB; anything this big is not one
MAX_QR_PIXELS = 4096 * 4096  # refuses decompression bombs before Pillow allocates them
MAX_REDIRECTS = 3

POSTER_SIZE = (1080, 1920)
POSTER_AVATAR_BOX = (420, 130, 240)  # left, top, side
POSTER_QR_BOX = (240, 900, 600)  # left, top, side: the QR, scaled to fill the box
POSTER_BACKGROUND = (255, 244, 236)
POSTER_ACCENT = (214, 78, 60)
POSTER_INK = (40, 36, 34)
POSTER_MUTED = (120, 110, 104)

THUMBNAIL_SIDE = 96  # pixels; the list shows it at 48 CSS pixels, sharp on 2x screens
THUMBNAIL_CACHE_SECONDS = 7 * 24 * 3600  # keyed by the QR's source, so a new QR is a new key
MAX_ZIP_CODES = 50  # a poster takes a fraction of a second; a zip stays well inside a request
LINK_QR_SCALE = 12  # pixels per module of a link's QR: about 500 px, like WeCom's own QR images

# Where Debian's fonts-noto-cjk puts its fonts (.ci/run installs it); index 2 is Simplified Chinese.
CJK_FONT_CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
]
FC_LIST = "fc-list"
CJK_FONT_PACKAGE = "fonts-noto-cjk"


class QrUnavailable(Exception):
    """The code's QR cannot be had; `reason` says why, in the user's language. `status` is
    the HTTP status a page answers with: 502, WeCom's image server failed us."""

    status = 502

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoQrYet(QrUnavailable):
    """The code has no contact way QR (not created yet, or a mini-program code)."""

    status = 409


class FontMissing(QrUnavailable):
    """No font for Chinese text is installed on this server."""

    status = 503


@dataclass(frozen=True)
class Download:
    filename: str
    png: bytes



# --- the QR ----------------------------------------------------------------------------------

def fetch_image(url: str) -> Image.Image:
    """Download an image with a timeout and a size cap (the connector's `download`), and check
    that it decodes."""
    try:
        body = download(url, max_bytes=MAX_QR_BYTES, timeout_seconds=FETCH_TIMEOUT_SECONDS,
                        max_redirects=MAX_REDIRECTS)
    except DownloadFailed as exc:
        raise QrUnavailable(_why_not(exc, url)) from None
    return _decode(body)


def _why_not(exc: DownloadFailed, url: str) -> str:
    if exc.problem == DownloadProblem.NOT_A_WEB_ADDRESS:
        return _("The code's QR address is not a web address: %(url)s") % {"url": url}
    if exc.problem == DownloadProblem.HTTP_STATUS:
        return _("WeCom's image server answered HTTP %(status)s for the QR code.") % {"status": exc.status}
    if exc.problem == DownloadProblem.TOO_LARGE:
        return _("The QR image is larger than %(mb)s MB; refusing it.") % {"mb": MAX_QR_BYTES // (1024 * 1024)}
    if exc.problem == DownloadProblem.TIMEOUT:
        return (_("WeCom's image server did not answer within %(seconds)s seconds.")
                % {"seconds": int(FETCH_TIMEOUT_SECONDS)})
    return _("WeCom's image server could not be reached (%(error)s).") % {"error": exc.error}


def _decode(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_QR_PIXELS:
                raise QrUnavailable(_("The QR image is too large to be a QR code."))
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise QrUnavailable(_("What came back from the QR address is not an image.")) from None
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _code(workspace: Workspace, membership: Membership | None, code_id: int) -> ChannelCode:
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return ChannelCode.objects.for_workspace(workspace).select_related("welfare").get(pk=code_id)


def _qr_of(code: ChannelCode) -> Image.Image:
    if code.is_link:
        if not code.link_url:
            raise NoQrYet(_("“%(name)s” has no link yet: WeCom has not made its acquisition link.")
                          % {"name": code.name})
        return link_qr(code.link_url)
    if not code.qr_code_url:
        raise NoQrYet(_("“%(name)s” has no QR code yet: WeCom has not made its contact way.")
                            % {"name": code.name})
    return fetch_image(code.qr_code_url)


def link_qr(url: str) -> Image.Image:
    """A QR of an acquisition link's URL, as an image (WeCom gives links no QR of their own)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=LINK_QR_SCALE, border=4)
    return _decode(out.getvalue())


def _filename(code: ChannelCode, suffix: str) -> str:
    safe = "".join(ch for ch in code.name if ch not in '\\/:*?"<>|').strip() or f"code-{code.pk}"
    return f"{safe}-{suffix}.png"


def code_qr(workspace: Workspace, membership: Membership | None, code_id: int) -> Download:
    """The code's own QR (as WeCom serves it, or of its link's URL) as a PNG named after the code."""
    code = _code(workspace, membership, code_id)
    return _qr_download(code)


def _qr_download(code: ChannelCode) -> Download:
    return Download(_filename(code, _("QR code")), _png(_qr_of(code)))


def code_qr_thumbnail(workspace: Workspace, membership: Membership | None, code_id: int) -> bytes:
    """A small PNG of the code's QR for the list. Cached under the QR's source (its image URL or
    link URL), so the list does not fetch WeCom's image again on every view, and a re-made
    contact way, whose QR is new, is never shown stale."""
    code = _code(workspace, membership, code_id)
    source = code.link_url if code.is_link else code.qr_code_url
    key = f"channels:qr-thumb:{workspace.pk}:{code.pk}:{hashlib.sha256(source.encode()).hexdigest()[:24]}"
    cached = cache.get(key)
    if isinstance(cached, bytes):
        return cached
    image = _qr_of(code).convert("L")
    # A preview, not for scanning: smooth scaling reads better than dropped modules.
    thumbnail = _png(image.resize((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS))
    cache.set(key, thumbnail, THUMBNAIL_CACHE_SECONDS)
    return thumbnail


# --- several codes at once ----------------------------------------------------------------------

@dataclass(frozen=True)
class Archive:
    filename: str
    data: bytes
    included: list[str]
    left_out: list[str]  # "name: why", also written into the zip as a text file


def codes_zip(workspace: Workspace, membership: Membership | None, code_ids: Sequence[int],
              what: Literal["qr", "poster"] = "qr") -> Archive:
    """One zip of the checked codes' QR PNGs (or posters), each named after its code. A code
    whose QR cannot be had is left out and named, with the reason, in a text file in the zip."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    ids = list(dict.fromkeys(int(i) for i in code_ids))
    if not ids:
        raise ValidationError(_("Check at least one code to download."))
    if len(ids) > MAX_ZIP_CODES:
        raise ValidationError(_("Download at most %(max)s codes at once.") % {"max": MAX_ZIP_CODES})
    codes = list(ChannelCode.objects.for_workspace(workspace).select_related("welfare").filter(pk__in=ids))
    if not codes:
        raise ValidationError(_("Check at least one code to download."))
    font = _poster_font() if what == "poster" else None
    out = io.BytesIO()
    included: list[str] = []
    left_out: list[str] = []
    used: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for code in sorted(codes, key=lambda c: c.name):
            try:
                item = _poster_download(workspace, code, font) if font else _qr_download(code)
            except QrUnavailable as exc:
                left_out.append(f"{code.name}: {exc.reason}")
                continue
            name = item.filename
            if name in used:  # names are unique per brand, but a name's unsafe characters are dropped
                name = f"{name[:-4]}-{code.pk}.png"
            used.add(name)
            archive.writestr(name, item.png)
            included.append(code.name)
        if left_out:
            archive.writestr(_("not included") + ".txt", "\n".join(left_out) + "\n")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    label = _("posters") if what == "poster" else _("QR codes")
    return Archive(f"{label}-{stamp}.zip", out.getvalue(), included, left_out)


# --- the poster ------------------------------------------------------------------------------

def _fc_list_fonts() -> list[tuple[str, int]]:
    """Fonts fontconfig says cover Simplified Chinese, Sans SC Regular faces first."""
    if shutil.which(FC_LIST) is None:
        return []
    try:
        listed = subprocess.run(  # noqa: S603 - a fixed command, no user input
            [FC_LIST, "--format", "%{file}|%{index}|%{family}|%{style}\n", ":lang=zh-cn"],
            capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in listed.splitlines():
        path, _sep, rest = line.partition("|")
        index, _sep, rest = rest.partition("|")
        if path and index.isdigit():
            preference = (" SC" not in rest, "Regular" not in rest, "Mono" in rest)
            found.append((preference, path, int(index)))
    return [(path, index) for _pref, path, index in sorted(found)]


def find_cjk_font() -> tuple[str, int] | None:
    """A (font file, face index) that draws Chinese, or None."""
    for path, index in CJK_FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    listed = _fc_list_fonts()
    return listed[0] if listed else None


def _font(found: tuple[str, int], size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(found[0], size, index=found[1])


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int,
          max_lines: int) -> list[str]:
    """Break Chinese between any two characters and Latin text between words; at most
    `max_lines`, the last one ellipsed when text is left over."""
    tokens = re.findall(r"[A-Za-z0-9'’.,!?%-]+\s*|\S\s*", " ".join(text.split()))
    lines: list[str] = []
    current = ""
    for index, token in enumerate(tokens):
        if not current or draw.textlength((current + token).rstrip(), font=font) <= width:
            current += token
            continue
        lines.append(current.rstrip())
        current = token
        if len(lines) == max_lines:
            rest = "".join(tokens[index:])
            last = lines[-1]
            while last and draw.textlength(last + "…", font=font) > width:
                last = last[:-1]
            lines[-1] = last + "…" if rest.strip() else lines[-1]
            return lines
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _centered(draw: ImageDraw.ImageDraw, y: float, text: str, font: ImageFont.FreeTypeFont,
              fill: tuple[int, int, int]) -> float:
    """Draw one line centred at `y`; answer the y below it."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((POSTER_SIZE[0] - (right - left)) // 2 - left, y - top), text, font=font, fill=fill)
    return y + (bottom - top)


def poster_persona(workspace: Workspace, code: ChannelCode) -> Persona | None:
    """The persona the code's first routed account embodies, else the brand's main IP."""
    persona = None
    if code.routed_userids:
        account = (StaffAccount.objects.for_workspace(workspace).select_related("persona")
                   .filter(userid=code.routed_userids[0]).first())
        persona = account.persona if account else None
    if persona is None:
        persona = Persona.objects.for_workspace(workspace).filter(level=MatrixLevel.MAIN).first()
    return persona


def poster_headline(code: ChannelCode, persona: Persona | None) -> str:
    """What the poster says in large letters: the headline the ops team wrote for the code, else
    the persona's slogan, else a plain invitation. Never the code's name, which is internal
    ("门店A-二楼收银台") and means nothing to a customer."""
    if code.poster_headline:
        return code.poster_headline
    if persona is not None and persona.slogan:
        return persona.slogan
    return _("Add me on WeCom for tips and member perks")


def _avatar(persona: Persona | None, name: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    side = POSTER_AVATAR_BOX[2]
    image: Image.Image | None = None
    if persona is not None and persona.avatar:
        try:
            with persona.avatar.open("rb") as handle:
                image = ImageOps.fit(Image.open(handle).convert("RGB"), (side, side), Image.Resampling.LANCZOS)
        except (OSError, UnidentifiedImageError):
            image = None  # a missing file: the initial below stands in for the photo
    if image is None:
        image = Image.new("RGB", (side, side), POSTER_ACCENT)
        draw = ImageDraw.Draw(image)
        initial = name[:1] or "?"
        left, top, right, bottom = draw.textbbox((0, 0), initial, font=font)
        draw.text(((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top), initial,
                  font=font, fill=(255, 255, 255))
    return image


@dataclass(frozen=True)
class PosterSpec:
    """What a poster shows, whoever asks for it (a channel code here; fission invitations can
    fill the same shape): the band's text, the persona, the headline, a detail line (the
    welfare), the QR and the call to action under it."""

    band: str
    persona: Persona | None
    display_name: str
    headline: str
    detail: str
    qr: Image.Image
    call_to_action: str


def _poster_font() -> tuple[str, int]:
    found = find_cjk_font()
    if found is None:
        raise FontMissing(_("No font for Chinese text is installed on this server, so the poster would "
                            "print empty boxes. Install the %(package)s package (apt-get install "
                            "%(package)s) and try again.") % {"package": CJK_FONT_PACKAGE})
    return found


def render_poster(spec: PosterSpec, found: tuple[str, int]) -> bytes:
    """A 1080×1920 PNG for print: band, avatar and name, headline, detail, QR, call to action."""
    poster = Image.new("RGB", POSTER_SIZE, POSTER_BACKGROUND)
    draw = ImageDraw.Draw(poster)
    draw.rectangle((0, 0, POSTER_SIZE[0], 90), fill=POSTER_ACCENT)
    _centered(draw, 22, spec.band, _font(found, 40), (255, 255, 255))

    left, top, side = POSTER_AVATAR_BOX
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
    draw.ellipse((left - 8, top - 8, left + side + 8, top + side + 8), fill=(255, 255, 255))
    poster.paste(_avatar(spec.persona, spec.display_name, _font(found, 120)), (left, top), mask)

    y = _centered(draw, top + side + 36, spec.display_name, _font(found, 56), POSTER_INK) + 40
    headline = _font(found, 64)
    for line in _wrap(draw, spec.headline, headline, 960, 2):
        y = _centered(draw, y, line, headline, POSTER_ACCENT) + 16
    if spec.detail:
        small = _font(found, 40)
        for line in _wrap(draw, spec.detail, small, 900, 2):
            y = _centered(draw, y + 8, line, small, POSTER_INK) + 4

    left, top, side = POSTER_QR_BOX
    draw.rounded_rectangle((left - 40, top - 40, left + side + 40, top + side + 40), radius=32, fill=(255, 255, 255))
    # Nearest-neighbour keeps every module a crisp square, as a scanner wants.
    poster.paste(spec.qr.convert("RGB").resize((side, side), Image.Resampling.NEAREST), (left, top))

    cta = _font(found, 46)
    y = top + side + 80
    for line in _wrap(draw, spec.call_to_action, cta, 960, 2):
        y = _centered(draw, y, line, cta, POSTER_INK) + 14
    _centered(draw, POSTER_SIZE[1] - 110, _("Long-press or scan with WeChat"), _font(found, 34), POSTER_MUTED)
    return _png(poster)


def code_poster_spec(workspace: Workspace, code: ChannelCode) -> PosterSpec:
    """A channel code's poster: its persona, the headline, its welfare and its QR."""
    persona = poster_persona(workspace, code)
    display_name = persona.name if persona else workspace.name
    detail = (code.welfare.description or code.welfare.name) if code.welfare is not None else ""
    return PosterSpec(
        band=workspace.name, persona=persona, display_name=display_name,
        headline=poster_headline(code, persona), detail=detail, qr=_qr_of(code),
        call_to_action=_("Scan the QR code to add %(name)s as a friend") % {"name": display_name},
    )


def _poster_download(workspace: Workspace, code: ChannelCode, found: tuple[str, int]) -> Download:
    return Download(_filename(code, _("poster")), render_poster(code_poster_spec(workspace, code), found))


def code_poster(workspace: Workspace, membership: Membership | None, code_id: int) -> Download:
    """A 1080×1920 PNG poster for print (see `render_poster`)."""
    code = _code(workspace, membership, code_id)
    return _poster_download(workspace, code, _poster_font())
