"""Expiry dates: a code may end after a day (China time). The daily job then deletes its contact
way (or link) at WeCom, so printed codes stop adding, and marks it expired; the list says so.
Running the job again changes nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.channels.models import ChannelCode, CodeKind
from siyu.channels.services import codes
from siyu.core.schedule import jobs
from tests.channels.conftest import code_input, way_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


def today() -> dt.date:
    return timezone.localdate(timezone.now(), SHANGHAI)


def test_a_day_already_past_is_refused_on_its_field(shop):
    with pytest.raises(ValidationError) as caught:
        codes.create_code(shop.workspace, shop.planner,
                          code_input(shop.accounts, expires_on=today() - dt.timedelta(days=1)))
    assert "expires_on" in caught.value.message_dict


def test_a_code_works_through_its_last_day(shop):
    last = today() + dt.timedelta(days=3)
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, expires_on=last))
    assert codes.expire_codes(shop.workspace, shanghai(last, 23, 59)) == []
    code.refresh_from_db()
    assert code.active and way_of(shop.twin, code.config_id) is not None


def test_after_its_last_day_the_code_is_deleted_at_wecom_and_marked_expired_once(shop):
    last = today() + dt.timedelta(days=3)
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, expires_on=last))
    after = shanghai(last + dt.timedelta(days=1), 0, 5)
    assert codes.expire_codes(shop.workspace, after) == ["南京西路店"]
    code.refresh_from_db()
    assert not code.active and code.expired and code.expired_at == after
    assert way_of(shop.twin, code.config_id) is None
    assert codes.expire_codes(shop.workspace, after + dt.timedelta(days=1)) == []
    code.refresh_from_db()
    assert code.expired_at == after


def test_an_expired_link_code_loses_its_link_at_wecom(shop):
    last = today()
    code = codes.create_code(shop.workspace, shop.planner, code_input(
        shop.accounts, kind=CodeKind.ACQUISITION_LINK, expires_on=last))
    codes.expire_codes(shop.workspace, shanghai(last + dt.timedelta(days=1), 1))
    assert not any(link["link_id"] == code.link_id for link in shop.twin.state()["links"])


def test_a_code_wecom_no_longer_has_still_expires(shop):
    last = today()
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, expires_on=last))
    shop.twin.api("externalcontact/del_contact_way", json={"config_id": code.config_id})
    assert codes.expire_codes(shop.workspace, shanghai(last + dt.timedelta(days=1), 1)) == ["南京西路店"]


def test_the_list_and_the_page_show_the_code_as_expired(shop, login):
    last = today()
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, expires_on=last))
    codes.expire_codes(shop.workspace, shanghai(last + dt.timedelta(days=1), 1))
    client = login(shop.members["copywriter"])
    listing = client.get("/channels/").content.decode()
    assert 'data-testid="expired"' in listing and last.isoformat() in listing
    assert 'data-testid="expired"' in client.get(f"/channels/codes/{code.pk}/").content.decode()


def test_the_expiry_can_be_kept_when_editing_after_the_day_was_set(shop):
    last = today()
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, expires_on=last))
    ChannelCode.objects.for_workspace(shop.workspace).filter(pk=code.pk).update(
        expires_on=last - dt.timedelta(days=1))  # set when that day was still ahead
    codes.update_code(shop.workspace, shop.planner, code.pk,
                      code_input(shop.accounts, expires_on=last - dt.timedelta(days=1)))


def test_a_daily_job_retires_expired_codes_one_task_per_brand(shop):
    from siyu.channels.tasks import expire_codes, expire_codes_brand
    from tests.support.jobs import run_queued

    [job] = [j for j in jobs() if j.name == "channels.expire_codes"]
    assert job.cron == "5 0 * * *"  # Asia/Shanghai, just after the last day ends
    code = codes.create_code(shop.workspace, shop.planner, code_input(shop.accounts, expires_on=today()))
    ChannelCode.objects.for_workspace(shop.workspace).filter(pk=code.pk).update(
        expires_on=today() - dt.timedelta(days=1))  # its last day was yesterday
    assert expire_codes.call() == 1
    assert run_queued(expire_codes_brand) == [["南京西路店"]]
    assert expire_codes.call() == 0  # nothing active left to expire
