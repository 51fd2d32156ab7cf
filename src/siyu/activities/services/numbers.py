"""活动数据 — an activity's numbers, computed from the rows that record what happened, never typed
in: joins and leaves from the groups' members (`community.GroupMember`), messages from the
groups' days (`community.GroupDaily`, where WeCom's statistics gave them), check-ins from
`points.Checkin` and conversions from `points.Redemption`.

The window is the activity's, cut at `now` while it runs. The audience's customers are the
customer members of its groups during the window, plus its segment's members; a check-in counts
when it is made in a group plan of an audience group or by an audience customer. A conversion is
an audience customer who redeemed a reward in the window (the mall's orders join it when the
mall lands). Messages come by day (Asia/Shanghai), so they count the window's whole days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.activities.models import Activity, ActivityGroup, ActivityStatus
from siyu.community.models import CustomerGroup, GroupDaily, GroupMember, MemberKind
from siyu.core.days import local_day
from siyu.core.models import Workspace
from siyu.points.models import Checkin, Redemption
from siyu.segments.services import members_query

METRICS = (("joins", _("Joins")), ("checkins", _("Check-ins")), ("messages", _("Messages")),
           ("conversions", _("Conversions")))


@dataclass(frozen=True)
class Numbers:
    start: dt.datetime
    end: dt.datetime  # the window's end so far
    groups: int
    members: int  # the groups' members now
    joins: int
    leaves: int
    checkins: int
    messages: int | None  # None: WeCom reported no statistics for these groups and days
    conversions: int

    @property
    def net(self) -> int:
        return self.joins - self.leaves


@dataclass(frozen=True)
class GroupNumbers:
    group: CustomerGroup
    joins: int
    leaves: int
    messages: int | None

    @property
    def net(self) -> int:
        return self.joins - self.leaves


def window(activity: Activity, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime] | None:
    """The window counted so far: None before the start; cut at `now` while it runs."""
    now = now or timezone.now()
    if activity.status == ActivityStatus.CANCELLED and activity.finished_at is not None:
        end = min(activity.ends_at, activity.finished_at)
    else:
        end = min(activity.ends_at, now)
    return (activity.starts_at, end) if end > activity.starts_at else None


def _group_ids(workspace: Workspace, activity: Activity) -> QuerySet[ActivityGroup, Any]:
    return ActivityGroup.objects.for_workspace(workspace).filter(activity=activity).values("group_id")


def audience_customers(workspace: Workspace, activity: Activity, start: dt.datetime, end: dt.datetime) -> Q:
    """A filter on `customer_id`: customer members of the audience's groups in the window, or of its segment."""
    in_groups = (GroupMember.objects.for_workspace(workspace)
                 .filter(group_id__in=_group_ids(workspace, activity), kind=MemberKind.CUSTOMER,
                         customer_id__isnull=False, join_time__lt=end)
                 .filter(Q(left_at__isnull=True) | Q(left_at__gte=start)).values("customer_id"))
    who = Q(customer_id__in=in_groups)
    if activity.segment_id is not None and activity.segment is not None:
        who |= Q(customer_id__in=members_query(workspace, activity.segment).values("pk"))
    return who


def numbers_of(workspace: Workspace, activity: Activity, now: dt.datetime | None = None) -> Numbers | None:
    """The activity's numbers so far; None before it starts. A fixed number of queries."""
    found = window(activity, now)
    if found is None:
        return None
    start, end = found
    groups = _group_ids(workspace, activity)
    moves = (GroupMember.objects.for_workspace(workspace).filter(group_id__in=groups, kind=MemberKind.CUSTOMER)
             .aggregate(joins=Count("pk", filter=Q(join_time__gte=start, join_time__lt=end)),
                        leaves=Count("pk", filter=Q(left_at__gte=start, left_at__lt=end))))
    size = CustomerGroup.objects.for_workspace(workspace).filter(pk__in=groups).aggregate(
        n=Count("pk"), members=Sum("member_count"))
    days = (GroupDaily.objects.for_workspace(workspace)
            .filter(group_id__in=groups, day__gte=local_day(start), day__lte=local_day(end), messages__isnull=False)
            .aggregate(rows=Count("pk"), messages=Sum("messages")))
    chats = CustomerGroup.objects.for_workspace(workspace).filter(pk__in=groups).values("chat_id")
    who = audience_customers(workspace, activity, start, end)
    checkins = (Checkin.objects.for_workspace(workspace).filter(at__gte=start, at__lt=end)
                .filter(Q(plan__group_chat_id__in=chats) | who).count())
    conversions = (Redemption.objects.for_workspace(workspace).filter(created_at__gte=start, created_at__lt=end)
                   .filter(who).values("customer_id").distinct().count())
    return Numbers(start=start, end=end, groups=size["n"], members=size["members"] or 0, joins=moves["joins"],
                   leaves=moves["leaves"], checkins=checkins,
                   messages=days["messages"] if days["rows"] else None, conversions=conversions)


def numbers_by_group(workspace: Workspace, activity: Activity, now: dt.datetime | None = None) -> list[GroupNumbers]:
    """Each audience group's joins, leaves and messages in the window so far (three queries)."""
    groups = list(CustomerGroup.objects.for_workspace(workspace).filter(pk__in=_group_ids(workspace, activity))
                  .select_related("owner").order_by("name", "pk"))
    found = window(activity, now)
    if found is None:
        return [GroupNumbers(g, 0, 0, None) for g in groups]
    start, end = found
    ids = [g.pk for g in groups]
    moves: dict[int, tuple[int, int]] = {
        row["group_id"]: (row["joins"], row["leaves"]) for row in GroupMember.objects.for_workspace(workspace)
        .filter(group_id__in=ids, kind=MemberKind.CUSTOMER).values("group_id")
        .annotate(joins=Count("pk", filter=Q(join_time__gte=start, join_time__lt=end)),
                  leaves=Count("pk", filter=Q(left_at__gte=start, left_at__lt=end)))}
    messages = {row["group_id"]: row["messages"] for row in GroupDaily.objects.for_workspace(workspace)
                .filter(group_id__in=ids, day__gte=local_day(start), day__lte=local_day(end), messages__isnull=False)
                .values("group_id").annotate(messages=Sum("messages"))}
    return [GroupNumbers(g, *moves.get(g.pk, (0, 0)), messages.get(g.pk)) for g in groups]


@dataclass(frozen=True)
class ReviewRow:
    key: str
    label: str
    target: int | None
    actual: int | None

    @property
    def attainment(self) -> float | None:
        """actual / target (1.0 = met); None without a target or an actual."""
        if self.target is None or self.actual is None:
            return None
        if self.target == 0:
            return 1.0
        return self.actual / self.target

    @property
    def met(self) -> bool | None:
        share = self.attainment
        return None if share is None else share >= 1


def review_rows(activity: Activity, numbers: Numbers | None) -> list[ReviewRow]:
    """Targets against actuals (joins as counted; the net, joins less leaves, is shown beside them)."""
    actual: dict[str, int | None] = {}
    if numbers is not None:
        actual = {"joins": numbers.joins, "checkins": numbers.checkins, "messages": numbers.messages,
                  "conversions": numbers.conversions}
    return [ReviewRow(key, str(label), getattr(activity, f"target_{key}"), actual.get(key)) for key, label in METRICS]
