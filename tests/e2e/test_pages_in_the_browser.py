"""The console's main pages in Chromium (issue 12): screenshots at 1440 px and 390 px wide, and
each page fails the test on a horizontal scrollbar, an English word left in the Chinese console
or an error in the browser's console. `/api/docs` renders with every request beyond this site
blocked (Swagger UI comes from the installed django-ninja's static files, not a CDN).

Screenshots go to `SIYU_SCREENSHOT_DIR` if set (CI keeps that directory as an artefact), else
to a directory under pytest's temporary directory, named `<width>-<page>.png`."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode, Welfare, WelfareCode, WelfareGrant
from siyu.community.models import CustomerGroup, GroupDaily, GroupMember, GroupType
from siyu.core.models import Workspace
from siyu.customers import services as customers
from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in

pytestmark = pytest.mark.e2e

WIDTHS = (1440, 390)
# Words that stay in Latin letters in the Chinese console: product and format names, and the
# test brand's own data (its username).
ALLOWED_WORDS = {
    "wecom", "api", "apis", "siyu", "csv", "xlsx", "excel", "url", "urls", "ids", "json", "http", "https",
    "openapi", "swagger", "secret", "bearer", "authorization", "token", "corpid", "agentid", "encodingaeskey", "unionid", "appid", "appsecret",
    "userid", "state", "echarts", "tabler", "redis", "sqlite", "postgresql", "asia", "shanghai", "alpha",
    "admin", "brand", "utc", "demo", "mini", "logo", "english", "sop",
}
# Where a page's own content is English by design.
NOT_CHECKED_FOR_WORDS = {"/api/docs"}

VISIBLE_WORDS = """() => {
  const words = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, code, pre, noscript, template, [translate="no"]')) continue;
    if (!el.checkVisibility || !el.checkVisibility()) continue;
    for (const token of node.textContent.split(/\\s+/)) {
      const bare = token.replace(/^[^A-Za-z0-9_]+|[^A-Za-z0-9_]+$/g, "");  // an id keeps its digits
      if (/^[A-Za-z]{4,}$/.test(bare)) words.push(bare);
    }
  }
  return words;
}"""


def screenshot_dir(tmp_path_factory) -> Path:
    configured = os.environ.get("SIYU_SCREENSHOT_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def a_brand_with_data() -> tuple[Workspace, dict[str, int]]:
    """A brand with one of each thing the main pages list, so tables and charts are not empty."""
    brand = make_brand("alpha")
    ws = brand.workspace
    Workspace.objects.filter(pk=ws.pk).update(name="小完子美妆")
    account = StaffAccount.objects.create(workspace=ws, userid="xiaowanzi01", name="小完子01", friend_count=120)
    code = ChannelCode.objects.create(workspace=ws, name="门店扫码", touchpoint="store", state="ch0001")
    now = timezone.now()
    relation = customers.record_add(ws, staff_userid=account.userid, external_userid="wm0001", state=code.state,
                                    at=now - dt.timedelta(hours=3))
    welfare = Welfare.objects.create(workspace=ws, name="新人专享券", kind="coupon", description="满99减20")
    pool = WelfareCode.objects.create(workspace=ws, welfare=welfare, code="XWZ000001", issued_at=now)
    WelfareGrant.objects.create(workspace=ws, welfare=welfare, customer_id=relation.customer_id, code=pool,
                                channel=code, account=account, granted_at=now)
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wr0001", name="会员VIP专属群", owner=account,
                                         owner_userid=account.userid, member_count=2, customer_count=1,
                                         type=GroupType.VIP, created_at=now - dt.timedelta(days=3), notice="群规：友善交流")
    GroupMember.objects.create(workspace=ws, group=group, userid="wm0001", kind="customer",
                               customer_id=relation.customer_id, join_time=now - dt.timedelta(days=1), join_scene=3)
    for days in range(3):
        GroupDaily.objects.create(workspace=ws, group=group, day=timezone.localdate() - dt.timedelta(days=days),
                                  members=2 - min(days, 1), joins=1 if days == 1 else 0)
    return ws, {"welfare": welfare.pk, "customer": relation.customer_id, "code": code.pk, "account": account.pk,
                "group": group.pk}


MAIN_PAGES = [
    "/", "/ip/", "/ip/matrix/", "/ip/portrait/", "/accounts/", "/accounts/plan/", "/accounts/kit/",
    "/accounts/{account}/edit/", "/channels/", "/channels/codes/{code}/", "/channels/welfare/",
    "/channels/welfare/{welfare}/", "/channels/analytics/", "/channels/analytics/spend/", "/customers/",
    "/customers/{customer}/", "/customers/tags/", "/customers/tags/rules/", "/customers/segments/",
    "/customers/lifecycle/", "/customers/churn/", "/customers/transfers/", "/customers/fields/", "/team/",
    "/content/", "/content/scripts/", "/content/templates/", "/content/templates/new/",
    "/content/messages/", "/content/messages/new/", "/content/messages/settings/",
    "/audit/", "/tasks/", "/tokens/", "/notifications/", "/wecom/settings/", "/api/docs",
    "/channels/codes/new/",
    "/content/sop/", "/content/sop/new/", "/content/sop/today/",
    "/content/moments/", "/content/moments/new/",
    "/community/", "/community/{group}/", "/community/mass/",
    "/community/codes/", "/community/codes/new/",
    "/community/moderation/", "/community/moderation/rules/new/", "/community/moderation/blacklist/",
    "/community/moderation/alerts/", "/community/moderation/checklist/",
    "/community/points/", "/community/points/plan/", "/community/points/ledger/", "/community/points/groups/",
    "/community/activities/", "/community/activities/new/", "/community/activities/calendar/",
    "/community/complaints/", "/community/complaints/new/", "/community/complaints/analytics/",
    "/fission/", "/fission/new/", "/fission/review/",
]


def test_main_pages_fit_read_in_chinese_and_log_no_errors(transactional_db, live_server, browser, tmp_path_factory):
    _ws, ids = a_brand_with_data()
    shots = screenshot_dir(tmp_path_factory)
    base = live_server.url
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    sign_in(page, base, "alpha-admin", PASSWORD)
    page.wait_for_url(f"{base}/")
    problems: list[str] = []
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for template in MAIN_PAGES:
                path = template.format(**ids)
                errors.clear()
                response = page.goto(f"{base}{path}", wait_until="load")
                where = f"{width}px {path}"
                if response is None or response.status >= 400:
                    problems.append(f"{where}: HTTP {response.status if response else '—'}")
                    continue
                name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "overview"
                page.screenshot(path=str(shots / f"{width}-{name}.png"), full_page=True)
                overflow = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
                if overflow[0] > overflow[1]:
                    problems.append(f"{where}: horizontal scrollbar ({overflow[0]} > {overflow[1]} px)")
                if path not in NOT_CHECKED_FOR_WORDS:
                    english = sorted({w for w in page.evaluate(VISIBLE_WORDS) if w.lower() not in ALLOWED_WORDS})
                    if english:
                        problems.append(f"{where}: English words {english[:8]}")
                problems.extend(f"{where}: {e}" for e in errors)
    finally:
        context.close()
    assert not problems, f"screenshots in {shots}\n" + "\n".join(problems)


def test_the_api_docs_render_with_nothing_but_this_site_reachable(transactional_db, live_server, browser):
    make_brand("alpha")
    base = live_server.url
    context = browser.new_context(locale="zh-CN")
    blocked: list[str] = []

    def only_this_site(route) -> None:
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", "::1") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_site)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, base, "alpha-admin", PASSWORD)
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/api/docs")
        expect(page.locator(".swagger-ui .info .title")).to_be_visible()
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    finally:
        context.close()
    assert not blocked, f"/api/docs asked for other sites: {blocked}"
