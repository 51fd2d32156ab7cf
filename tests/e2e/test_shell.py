"""The console shell in a real browser, at a desktop and a phone width: the menu marks the
section being shown, runs the full height of the page at 1440 px, folds behind a menu button at
390 px, and the home page never scrolls sideways."""

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_brand
from tests.e2e.test_console_flow import sign_in

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("SIYU_SCREENSHOTS_DIR", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
    document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)"""


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_menu_marks_the_section_and_spans_the_page_at_desktop_width(transactional_db, live_server, page):
    make_brand("alpha")
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, live_server.url, "alpha-admin", PASSWORD)
    expect(page.get_by_role("heading", name="Brand alpha · 概览")).to_be_visible()
    nav = page.get_by_test_id("nav")
    expect(nav).to_be_visible()
    expect(page.get_by_test_id("nav-toggle")).to_be_hidden()
    expect(nav.locator(".nav-item.active")).to_have_count(1)
    expect(nav.locator(".nav-item.active")).to_contain_text("概览")
    assert no_sideways_scroll(page)
    shot(page, "home-1440")

    page.goto(f"{live_server.url}/customers/tags/")
    expect(nav.locator(".nav-item.active")).to_have_count(1)
    expect(nav.locator(".nav-item.active")).to_contain_text("客户")
    page.goto(f"{live_server.url}/team/roles/")  # a page longer than the window
    expect(nav.locator(".nav-item.active")).to_contain_text("团队与权限")
    # The dark menu is as tall as the whole page, and its links stay in view while it scrolls.
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert page_height > 1200
    box = page.locator("aside.navbar-vertical").bounding_box()
    assert box["y"] <= 0 and box["height"] >= page_height - 1
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(300)
    assert page.evaluate("window.scrollY") > 300
    link = nav.get_by_role("link", name="团队与权限").bounding_box()
    assert 0 <= link["y"] <= 900
    shot(page, "roles-1440")


def test_the_menu_folds_behind_a_button_at_phone_width(transactional_db, live_server, page):
    make_brand("alpha")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, "alpha-admin", PASSWORD)
    expect(page.get_by_role("heading", name="Brand alpha · 概览")).to_be_visible()
    nav = page.get_by_test_id("nav")
    toggle = page.get_by_test_id("nav-toggle")
    expect(toggle).to_be_visible()
    expect(nav).to_be_hidden()
    assert no_sideways_scroll(page)
    shot(page, "home-390")
    # The page's heading is on the first screen, not below the whole menu.
    assert page.get_by_role("heading", name="Brand alpha · 概览").bounding_box()["y"] < 400

    toggle.click()
    expect(nav).to_be_visible()
    expect(nav.locator(".nav-item.active")).to_contain_text("概览")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    shot(page, "home-390-menu")
    toggle.click()
    expect(nav).to_be_hidden()


@pytest.mark.parametrize("width", [390, 1440])
def test_the_shell_pages_never_scroll_sideways(transactional_db, live_server, page, width):
    make_brand("alpha")
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page, live_server.url, "alpha-admin", PASSWORD)
    for path in ("/", "/team/", "/team/roles/", "/tasks/", "/tokens/"):
        page.goto(f"{live_server.url}{path}")
        assert no_sideways_scroll(page), (path, width, page.evaluate(WIDEST))
        shot(page, f"{path.strip('/').replace('/', '-') or 'home'}-{width}")
