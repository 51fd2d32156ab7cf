"""The twin's acquisition links (获客助手, WECOM.md §7) over real HTTP: made, listed, read, changed
and deleted as WeCom does, and an add through a link carries its `customer_channel` as State."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.twin import RunningTwin, running_twin, twin_config


@pytest.fixture
def twin() -> Iterator[RunningTwin]:
    with running_twin(twin_config()) as twin:
        twin.add_staff("zhangsan")
        twin.add_staff("lisi")
        yield twin


def make_link(twin: RunningTwin, users: list[str], name: str = "公众号文章") -> dict:
    made = twin.api("externalcontact/customer_acquisition/create_link",
                    json={"link_name": name, "range": {"user_list": users}, "skip_verify": True})
    assert made["errcode"] == 0, made
    return made["link"]


def test_a_link_is_made_and_read_back_with_its_range(twin):
    link = make_link(twin, ["zhangsan"])
    assert link["url"].startswith("https://") and link["link_id"] in link["url"]
    got = twin.api("externalcontact/customer_acquisition/get", json={"link_id": link["link_id"]})
    assert got["errcode"] == 0
    assert got["link"]["link_name"] == "公众号文章" and got["link"]["url"] == link["url"]
    assert got["range"] == {"user_list": ["zhangsan"], "department_list": []}


def test_links_are_listed_page_by_page(twin):
    ids = [make_link(twin, ["zhangsan"], name=f"链接{n}")["link_id"] for n in range(3)]
    first = twin.api("externalcontact/customer_acquisition/list_link", json={"limit": 2})
    second = twin.api("externalcontact/customer_acquisition/list_link",
                      json={"limit": 2, "cursor": first["next_cursor"]})
    assert first["link_id_list"] + second["link_id_list"] == ids and second["next_cursor"] == ""


def test_updating_a_links_range_replaces_the_old_one(twin):
    link = make_link(twin, ["zhangsan"])
    answer = twin.api("externalcontact/customer_acquisition/update_link",
                      json={"link_id": link["link_id"], "link_name": "新名字", "range": {"user_list": ["lisi"]}})
    assert answer["errcode"] == 0
    got = twin.api("externalcontact/customer_acquisition/get", json={"link_id": link["link_id"]})
    assert got["range"]["user_list"] == ["lisi"] and got["link"]["link_name"] == "新名字"


def test_a_link_needs_someone_in_its_range(twin):
    answer = twin.api("externalcontact/customer_acquisition/create_link",
                      json={"link_name": "空", "range": {"user_list": []}})
    assert answer["errcode"] == 40058


def test_a_deleted_link_is_unknown_afterwards(twin):
    link = make_link(twin, ["zhangsan"])
    assert twin.api("externalcontact/customer_acquisition/delete_link", json={"link_id": link["link_id"]})["errcode"] == 0
    for name in ("get", "update_link", "delete_link"):
        assert twin.api(f"externalcontact/customer_acquisition/{name}",
                        json={"link_id": link["link_id"]})["errcode"] == 40058


def test_an_add_through_a_link_carries_its_customer_channel_as_the_state(twin):
    link = make_link(twin, ["lisi"])
    response = twin.admin.post("/twin/customers/add", json={
        "name": "王小雨", "link_id": link["link_id"], "customer_channel": "chlinkstate01"})
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "chlinkstate01" and response.json()["userid"] == "lisi"


def test_a_customer_channel_past_64_bytes_is_refused(twin):
    link = make_link(twin, ["lisi"])
    response = twin.admin.post("/twin/customers/add", json={
        "name": "王小雨", "link_id": link["link_id"], "customer_channel": "渠" * 22})  # 66 bytes
    assert response.status_code == 400
