"""Apps that share a menu section name themselves in the contract (`section_tabs`), and its pages
show them as tabs: the community section's groups, codes, rules, points, activities, calendar and
complaints, the page's own marked active."""

from __future__ import annotations

import re


def tabs(html: str) -> list[tuple[str, bool]]:
    nav = html[html.index('data-testid="section-tabs"'):]
    nav = nav[:nav.index("</ul>")]
    return [(href, "active" in classes) for classes, href in re.findall(r'class="nav-link([^"]*)" href="([^"]+)"', nav)]


def test_community_pages_show_the_sections_tabs_with_their_own_active(brand_a, login):
    client = login(brand_a.admin)
    listed = tabs(client.get("/community/").content.decode())
    assert [href for href, _active in listed] == [
        "/community/", "/community/codes/", "/community/moderation/", "/community/points/",
        "/community/activities/", "/community/activities/calendar/", "/community/complaints/"]
    assert [href for href, active in listed if active] == ["/community/"]
    on_calendar = tabs(client.get("/community/activities/calendar/").content.decode())
    assert [href for href, active in on_calendar if active] == ["/community/activities/calendar/"]


def test_pages_outside_a_section_with_tabs_show_none(brand_a, login):
    assert 'data-testid="section-tabs"' not in login(brand_a.admin).get("/channels/").content.decode()
