"""Dates in the Chinese console: the page declares its language to the browser, and every
`<input type="date">` carries an ISO value, the only one a browser accepts (a localised
`2026/12/05` is dropped and the field shows empty)."""

from __future__ import annotations

import datetime as dt
import re

from siyu.channels.services import analytics


def date_inputs(html: str) -> dict[str, str]:
    """name -> value of each <input type="date"> (attributes in any order)."""
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="date"' in tag:
            name = re.search(r'name="([^"]+)"', tag)
            value = re.search(r'value="([^"]*)"', tag)
            found[name.group(1) if name else "?"] = value.group(1) if value else ""
    return found


def test_the_chinese_console_tells_the_browser_it_is_chinese(brand_a, login):
    html = login(brand_a.admin).get("/").content.decode()
    assert '<html lang="zh-CN">' in html


def test_the_english_console_tells_the_browser_it_is_english(brand_a, login):
    client = login(brand_a.admin)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/").content.decode()


def test_the_spend_form_keeps_its_default_dates_in_iso(brand_a, login):
    today = analytics.local_today()
    html = login(brand_a.members["planner"]).get("/channels/analytics/spend/").content.decode()
    assert date_inputs(html) == {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}


def test_date_filters_echo_iso_values(brand_a, login):
    client = login(brand_a.admin)
    html = client.get("/customers/churn/", {"start": "2026-11-01", "end": "2026-11-30"}).content.decode()
    assert date_inputs(html) == {"start": "2026-11-01", "end": "2026-11-30"}
    html = client.get("/customers/", {"added_from": "2026-11-01"}).content.decode()
    assert date_inputs(html)["added_from"] == "2026-11-01"


def test_a_date_widget_writes_iso_whatever_the_language():
    from django.utils import translation

    from siyu.web import DayInput, MinuteInput

    with translation.override("zh-hans"):
        assert 'value="2026-12-05"' in DayInput().render("d", dt.date(2026, 12, 5))
        assert 'value="2026-12-05T09:30"' in MinuteInput().render("t", dt.datetime(2026, 12, 5, 9, 30))
