"""Leaderboards (积分排行榜) per group and period: the service (one query per board), the console
pages (board, rule form by role, waiting list) and the fans' pages (boards, a group's board, the
waiting list of a fixed-size group, signed links); and the points-balance segment field."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.core.models import AuditEntry
from siyu.mobile import services as mobile
from siyu.points import services
from siyu.points.models import GroupRule, Period, Source, WaitlistEntry, WaitState
from tests.conftest import seat
from tests.points.conftest import SHANGHAI_NOON, make_customer, make_group, member_leaves
from tests.points.test_fan_pages import as_fan

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
BASE = "/community/points/"


@pytest.fixture
def fans(brand_a):
    return [make_customer(brand_a.workspace, n) for n in range(1, 5)]


@pytest.fixture
def group(brand_a, fans):
    return make_group(brand_a.workspace, fans, joined=SHANGHAI_NOON - 30 * DAY)


def earn(ws, customer, points, at, source=Source.CHECKIN):
    services.grant(ws, customer, points, source, f"{customer.pk}:{at.isoformat()}:{points}", now=at)


def test_a_board_ranks_current_members_by_points_earned_in_the_period_in_one_query(brand_a, group, fans):
    ws = brand_a.workspace
    earn(ws, fans[0], 10, SHANGHAI_NOON)  # Monday 7 Dec: this week
    earn(ws, fans[1], 30, SHANGHAI_NOON + DAY)
    earn(ws, fans[1], 5, SHANGHAI_NOON - DAY)  # Sunday: last week
    earn(ws, fans[2], 50, SHANGHAI_NOON + DAY, Source.INVITATION)
    earn(ws, fans[3], 90, SHANGHAI_NOON)
    member_leaves(group, fans[3], SHANGHAI_NOON + 2 * DAY)  # no longer a member: off the board
    services.spend(ws, fans[2], 40, Source.REDEMPTION, "r1", now=SHANGHAI_NOON + 2 * DAY)  # spending moves nobody
    span = services.period_of(Period.WEEK, dt.date(2026, 12, 9))
    with CaptureQueriesContext(connection) as queries:
        rows = services.standings(ws, group, span)
    assert len(queries.captured_queries) == 1
    assert [(s.rank, s.customer_id, s.points) for s in rows] == [(1, fans[2].pk, 50), (2, fans[1].pk, 30),
                                                                  (3, fans[0].pk, 10)]
    month = services.standings(ws, group, services.period_of(Period.MONTH, dt.date(2026, 12, 9)))
    assert [s.points for s in month] == [50, 35, 10]  # December: Sunday 6 Dec counts too


def test_the_console_shows_a_board_and_only_editors_may_set_the_rule(login, brand_a, group, fans):
    ws = brand_a.workspace
    earn(ws, fans[0], 10, SHANGHAI_NOON)
    with time_machine.travel(SHANGHAI_NOON + DAY, tick=False):
        page = login(brand_a.members["copywriter"]).get(f"{BASE}groups/{group.pk}/")
        assert page.status_code == 200 and page.content.decode().count('data-testid="standing"') == 4
        assert 'data-testid="rule-form"' not in page.content.decode()
        assert login(brand_a.members["copywriter"]).post(f"{BASE}groups/{group.pk}/", {}).status_code == 403
        client = login(brand_a.members["ops_lead"])
        refused = client.post(f"{BASE}groups/{group.pk}/", {"period": "week", "mode": "off", "threshold": "20",
                                                            "bottom_percent": "10", "warning_days": "3",
                                                            "invite_hours": "48", "active": "on"})
        assert refused.status_code == 200 and not GroupRule.objects.for_workspace(ws).exists()
        saved = client.post(f"{BASE}groups/{group.pk}/", {"period": "month", "mode": "bottom", "threshold": "20",
                                                          "bottom_percent": "20", "warning_days": "3", "seat_limit": "5",
                                                          "invite_hours": "48", "active": "on"})
        assert saved.status_code == 302
        rule = GroupRule.objects.for_workspace(ws).get()
        assert (rule.period, rule.mode, rule.bottom_percent, rule.seat_limit) == ("month", "bottom", 20, 5)
        assert AuditEntry.objects.for_workspace(ws).filter(module="points").exists()
        listing = client.get(f"{BASE}groups/?q={group.name}")
        assert listing.status_code == 200 and f"{BASE}groups/{group.pk}/" in listing.content.decode()
        assert client.get(f"{BASE}groups/{group.pk}/?period=month&day=2026-11-03").status_code == 200


def test_another_brands_group_is_not_found(login, brand_a, brand_b, group):
    assert login(brand_b.admin).get(f"{BASE}groups/{group.pk}/").status_code == 404


def test_a_fan_sees_their_groups_boards_and_their_place(client, brand_a, group, fans):
    ws = brand_a.workspace
    earn(ws, fans[1], 30, SHANGHAI_NOON)
    earn(ws, fans[0], 10, SHANGHAI_NOON)
    as_fan(client, ws, fans[0].pk)
    with time_machine.travel(SHANGHAI_NOON + DAY, tick=False):
        boards = client.get(f"/m/{ws.slug}/fan/boards/")
        html = boards.content.decode()
        assert boards.status_code == 200 and 'data-testid="my-place"' in html and html.count('data-testid="standing"') == 4
        one = client.get(f"/m/{ws.slug}/fan/boards/{group.pk}/?period=month")
        assert one.status_code == 200 and "2" in one.content.decode()
    outsider = make_customer(ws, 50)
    as_fan(client, ws, outsider.pk)
    assert client.get(f"/m/{ws.slug}/fan/boards/{group.pk}/").status_code == 404  # members only, no waiting list


def test_a_fan_queues_for_a_full_fixed_size_group_from_a_signed_link(client, brand_a, group, fans):
    ws = brand_a.workspace
    services.save_rule(ws, seat(brand_a.admin, ws), group.pk, services.RuleInput(
        mode="off", seat_limit=5))  # owner + 4 fans: full
    outsider = make_customer(ws, 60)
    as_fan(client, ws, outsider.pk)
    link = mobile.fan_link_path(ws, f"board:{group.pk}", outsider.pk)
    landed = client.get(link)
    assert landed.status_code == 302 and landed["Location"] == f"/m/{ws.slug}/fan/boards/{group.pk}/"
    page = client.get(landed["Location"])
    assert page.status_code == 200 and 'data-testid="queue"' in page.content.decode()
    assert client.post(landed["Location"]).status_code == 302
    assert 'data-testid="place"' in client.get(landed["Location"]).content.decode()
    assert WaitlistEntry.objects.for_workspace(ws).get().state == WaitState.WAITING
    member_leaves(group, fans[0], SHANGHAI_NOON)
    services.fill_seats(ws)
    assert 'data-testid="invited"' in client.get(landed["Location"]).content.decode()
    client.post(landed["Location"], {"leave": "1"})
    assert WaitlistEntry.objects.for_workspace(ws).get().state == WaitState.CANCELLED


def test_a_link_to_a_page_that_does_not_exist_is_refused(client, brand_a, fans):
    ws = brand_a.workspace
    as_fan(client, ws, fans[0].pk)
    from siyu.mobile import sessions

    token = sessions.fan_token(ws.pk, "board:abc", fans[0].pk)
    assert client.get(f"/m/{ws.slug}/f/{token}/").status_code == 403
    with pytest.raises(ValueError):
        mobile.fan_link_path(ws, "board:")


# --- the points-balance segment field -----------------------------------------------------------------

@pytest.mark.parametrize(("op", "value"), [("gte", 0), ("gte", 1), ("gte", 30), ("lte", 0), ("lte", 29),
                                           ("between", [0, 10]), ("between", [5, 40]), ("between", [31, 99])])
def test_the_points_balance_field_matches_the_same_customers_in_sql_and_in_python(brand_a, op, value):
    from siyu.customers.segmentation import Context
    from siyu.segments import services as segments
    from siyu.segments.services.rules import clean_rule, matches

    ws = brand_a.workspace
    people = [make_customer(ws, n) for n in range(1, 6)]
    for person, points in zip(people[1:], [5, 30, 30, 100], strict=True):  # people[0] has no wallet at all
        services.grant(ws, person, points, Source.CHECKIN, f"seg{person.pk}")
    services.spend(ws, people[4], 100, Source.REDEMPTION, "seg-spent")  # a wallet back at 0
    rule = clean_rule(ws, {"match": "and", "rules": [{"field": "points", "op": op, "value": value}]})
    for tree in (rule, {"match": "or", "rules": [rule]}):
        in_sql = set(segments.rule_customers(ws, tree, SHANGHAI_NOON).values_list("pk", flat=True))
        ctx = Context(ws, SHANGHAI_NOON)
        brute = {pk for pk, snap in segments.snapshots(ws, [p.pk for p in people]).items() if matches(ctx, tree, snap)}
        assert in_sql == brute
