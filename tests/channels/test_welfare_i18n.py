"""The welfare pages in Simplified Chinese. Needs /tmp/siyu-po/welfare.po merged into the
channels catalogue (src/siyu/channels/locale)."""

from __future__ import annotations

from tests.channels.test_welfare_pages import a_coupon, a_grant


def test_the_welfare_pages_speak_simplified_chinese(brand_a, login):
    welfare = a_coupon(brand_a)
    a_grant(brand_a, welfare)
    client = login(brand_a.members["planner"])
    listing = client.get("/channels/welfare/").content.decode()
    assert "剩余库存" in listing and "新建福利" in listing
    detail = client.get(f"/channels/welfare/{welfare.pk}/").content.decode()
    assert "添加券码" in detail and "发放记录" in detail and "核销" in detail
