"""概览: the ops numbers of today (adds, net adds, churn, missed welcome messages), each against
yesterday and the last 7 days against the 7 before; the engineering counts live on Tasks."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.channels.models import WelcomeRecord, WelcomeStatus
from siyu.channels.services import daily
from siyu.customers import services as customers
from siyu.customers.models import DeletedBy
from tests.conftest import seat


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def add(workspace, external: str, when: dt.datetime, staff: str = "xw01"):
    StaffAccount.objects.for_workspace(workspace).get_or_create(workspace=workspace, userid=staff, defaults={"name": staff})
    return customers.record_add(workspace, staff_userid=staff, external_userid=external, state="", at=when)


def lose(workspace, external: str, when: dt.datetime, by=DeletedBy.CUSTOMER, staff: str = "xw01") -> None:
    customers.record_loss(workspace, staff_userid=staff, external_userid=external, at=when, by=by)


def figure(html: str, key: str) -> str:
    return re.search(rf'data-testid="fig-{key}">\s*(-?\d+)\s*<', html).group(1)


def seed(workspace) -> None:
    now = timezone.now()
    for i in range(3):  # today: 3 adds, 1 churn, 1 deleted by staff -> net 1
        add(workspace, f"wmT{i}", now - dt.timedelta(minutes=5 + i))
    lose(workspace, "wmT0", now - dt.timedelta(minutes=1))
    lose(workspace, "wmT1", now - dt.timedelta(minutes=1), by=DeletedBy.STAFF)
    for i in range(5):  # 8-13 days ago: 5 adds in the week before
        add(workspace, f"wmOld{i}", days_ago(8 + i))
    relation = add(workspace, "wmT2", now - dt.timedelta(minutes=5 + 2))
    WelcomeRecord.unscoped.create(workspace=workspace, relation=relation, added_at=relation.added_at,
                                 status=WelcomeStatus.MISSED, note="past 20 s")


def test_the_home_page_shows_todays_ops_numbers(brand_a, login):
    seed(brand_a.workspace)
    html = login(brand_a.admin).get("/").content.decode()
    assert (figure(html, "adds"), figure(html, "net"), figure(html, "churn"), figure(html, "welcome_missed")) == (
        "3", "1", "1", "1")
    for words in ("今日进粉", "今日净增", "今日流失", "今日欢迎语未送达"):
        assert words in html
    assert "已处理事件" not in html and "排队中的任务" not in html


def test_each_number_has_its_trend_against_the_week_before(brand_a, login):
    seed(brand_a.workspace)
    html = login(brand_a.admin).get("/").content.decode()
    trend = html[html.index('data-testid="trend-adds"'):]
    trend = trend[:trend.index("</div>")]
    assert "近 7 天 3" in trend and "↓ -40%" in trend and "较前 7 天" in trend  # 3 against 5
    assert re.search(r'<svg class="sparkline"[^>]*data-points="(0,){13}1"', html)
    assert 'id="trend-chart"' in html


def test_the_figures_come_from_daily_figures_over_14_days(brand_a):
    seed(brand_a.workspace)
    figures = daily.daily_figures(brand_a.workspace, seat(brand_a.admin, brand_a.workspace))
    assert len(figures.days) == 14 and figures.days[-1] == timezone.localdate()
    assert (figures.adds.last_week, figures.adds.previous_week, figures.adds.change_percent) == (3, 5, -40)
    assert figures.churn.today == 1 and figures.net.today == 1


def test_a_role_without_the_channels_module_sees_no_welcome_misses(brand_a, login):
    seed(brand_a.workspace)
    html = login(brand_a.members["merchandiser"]).get("/").content.decode()
    assert figure(html, "adds") == "3" and 'data-testid="fig-welcome_missed"' not in html


def test_a_role_without_customers_is_told_instead_of_refused(brand_a, login):
    response = login(brand_a.members["copywriter"]).get("/")
    assert response.status_code == 200 and 'data-testid="no-figures"' in response.content.decode()


def test_another_brands_adds_never_count(brand_a, brand_b, login):
    seed(brand_b.workspace)
    html = login(brand_a.admin).get("/").content.decode()
    assert figure(html, "adds") == "0"
