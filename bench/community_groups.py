"""Customer groups at scale (issue 16): 10,000 groups with 5,000,000 memberships on PostgreSQL.

Times two things:

- the console's group list (`/community/`, with stages, net joins over 7 days, active members and
  quiet days) through Django's test client as a signed-in admin: page 1, a deep page, a stage
  filter and a name search; p50/p95 over repeated requests (goal < 300 ms);
- a join event applied (`community.services.apply_group`, the path every `add_member` event
  takes once the group has been read from WeCom): a group's `groupchat/get` answer with one new
  member, written in its own transaction; p50/p95/p99 (goal < 10 ms), both as an event in order
  takes it (we hold its `LastMemVer`, so only its `MemChangeList` is compared) and as one after
  a gap takes it (every member compared). The WeCom read itself is not timed (it is the twin's
  or WeCom's time, not ours).

The bench creates (and drops, unless `--reuse`) its own database on the PostgreSQL server
(Debian `postgresql`), migrates it and loads it with INSERT … SELECT generate_series in slices:

    .venv/bin/python bench/community_groups.py                 # 10,000 groups, 5,000,000 members
    ... --groups 1000                                          # a tenth, for a quick look
    ... --reuse                                                # keep the data of an earlier run
    BENCH_PG=postgres://postgres@127.0.0.1:5432 (default) names the server.

Members per group vary from 100 to 900 rows (500 on average); a group keeps at most 500 live
members (WeCom's cap, WECOM.md §4) and about 10 % of the others have left. One staff owner per
group (50 accounts), 30 days of `GroupDaily` per group. Members carry no `Customer` rows (the
list and the join path do not need them; the join path still looks them up).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH_PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _database(name: str, fresh: bool) -> None:
    import psycopg

    with psycopg.connect(f"{BENCH_PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = f"{BENCH_PG}/{name}"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--joins", type=int, default=300)
    parser.add_argument("--database", default="siyu_bench_groups")
    parser.add_argument("--reuse", action="store_true")
    return parser.parse_args()


ARGS = _args()
_database(ARGS.database, fresh=not ARGS.reuse)
sys.path.insert(0, str(Path(__file__).resolve().parent))

import customers_1m  # noqa: E402 - sets Django up
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from siyu.accounts.models import StaffAccount  # noqa: E402
from siyu.community.models import CustomerGroup, GroupDaily, GroupMember  # noqa: E402
from siyu.community.services import apply_group  # noqa: E402
from siyu.core.models import Membership, Workspace  # noqa: E402
from siyu.core.permissions import Role  # noqa: E402
from siyu.core.tenancy import workspace_context  # noqa: E402
from siyu.wecom.client import GroupChat  # noqa: E402

SLUG = "bench-groups"
ACCOUNTS = 50
SLICE = 500  # groups per INSERT of members (~250,000 rows)


def generate(groups: int) -> Workspace:
    started = time.perf_counter()
    workspace = Workspace.objects.create(name="Bench groups", slug=SLUG)
    ws = workspace.pk
    StaffAccount.unscoped.bulk_create([StaffAccount(workspace=workspace, userid=f"owner{i:02}", name=f"群主{i:02}")
                                       for i in range(ACCOUNTS)])
    now = timezone.now().isoformat()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM accounts_staffaccount WHERE workspace_id = %s", [ws])
        (first_account,) = cursor.fetchone()
        cursor.execute("SET session_replication_role = replica")  # a scratch database: no FK triggers while loading
        cursor.execute(customers_1m._insert_select(CustomerGroup, {
            "workspace_id": str(ws), "chat_id": "'wrbench' || g", "name": "'社群' || g",
            "owner_id": f"{first_account} + (g % {ACCOUNTS})", "owner_userid": f"'owner' || lpad((g % {ACCOUNTS})::text, 2, '0')",
            "created_at": f"'{now}'::timestamptz - interval '400 days' + (g % 30) * interval '1 day'",
            "type": "(ARRAY['welfare','knowledge','vip','event','interest','local','aftersales'])[1 + g % 7]",
            "member_version": "md5(g::text)",
            "last_active_on": f"('{now}'::timestamptz - (g % 20) * interval '1 day')::date",
            "synced_at": f"'{now}'::timestamptz",
        }, f"generate_series(1, {groups}) g"))
        cursor.execute("SELECT min(id), max(id) FROM community_customergroup WHERE workspace_id = %s", [ws])
        low, high = cursor.fetchone()
        for start in range(low, high + 1, SLICE):
            end = min(start + SLICE - 1, high)
            # k = 1 is the owner (staff); later rows are customers, joined over the last year.
            # Rows past the 500th have left (the cap), and so have ~10 % of the others.
            cursor.execute(customers_1m._insert_select(GroupMember, {
                "workspace_id": str(ws), "group_id": "g.id",
                "userid": "CASE WHEN k = 1 THEN g.owner_userid ELSE 'wmb' || g.id || 'x' || k END",
                "kind": "CASE WHEN k = 1 THEN 'staff' ELSE 'customer' END",
                "nickname": "'成员' || k",
                "join_time": f"date_trunc('second', '{now}'::timestamptz - power(random(), 2) * interval '365 days')",
                "join_scene": "(ARRAY[1, 2, 3])[1 + k % 3]",
                "left_at": (f"CASE WHEN k > 1 AND (k > 500 OR random() < 0.1) "
                            f"THEN '{now}'::timestamptz - random() * interval '60 days' END"),
                "quit_scene": "CASE WHEN k > 500 THEN 0 END",
            }, f"community_customergroup g CROSS JOIN LATERAL generate_series(1, 100 + (g.id * 7919) % 801) k "
               f"WHERE g.workspace_id = {ws} AND g.id BETWEEN {start} AND {end}"))
        # A member who left did so after joining.
        cursor.execute("UPDATE community_groupmember SET left_at = join_time + interval '1 hour' WHERE workspace_id = %s AND left_at < join_time", [ws])
        cursor.execute(
            "UPDATE community_customergroup g SET member_count = c.n, customer_count = c.n - 1, "
            "stage = CASE WHEN c.n >= 450 THEN 'split' WHEN c.n >= 100 THEN 'fission' WHEN c.n >= 30 THEN 'growth' "
            "ELSE 'launch' END FROM (SELECT group_id, count(*) FILTER (WHERE left_at IS NULL) n "
            "FROM community_groupmember WHERE workspace_id = %s GROUP BY group_id) c WHERE c.group_id = g.id", [ws])
        cursor.execute(customers_1m._insert_select(GroupDaily, {
            "workspace_id": str(ws), "group_id": "g.id", "day": f"('{now}'::timestamptz)::date - d",
            "members": "g.member_count", "joins": "(g.id + d) % 7", "leaves": "(g.id + d) % 3",
            "messages": "(g.id * d) % 300", "active_members": "(g.id + d) % 60",
        }, f"community_customergroup g CROSS JOIN generate_series(0, 29) d WHERE g.workspace_id = {ws}"))
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("community_customergroup", "community_groupmember", "community_groupdaily"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"generated in {time.perf_counter() - started:.0f}s")
    return workspace


def percentile(took: list[float], p: float) -> float:
    return sorted(took)[max(int(len(took) * p) - 1, 0)]


def report(name: str, took: list[float], goal: float, key: float = 0.95) -> None:
    took = took[3:]  # the first requests warm caches and connections
    line = (f"{name}: {len(took)} runs, p50 {statistics.median(took):.1f} ms, p95 {percentile(took, 0.95):.1f} ms, "
            f"p99 {percentile(took, 0.99):.1f} ms, max {max(took):.1f} ms")
    met = percentile(took, key) < goal
    print(f"{line} (goal p{int(key * 100)} < {goal:g} ms: {'met' if met else 'NOT met'})")


def time_list(ws: Workspace, requests: int) -> None:
    user = get_user_model().objects.create_user(username=f"bench-admin-{time.time_ns()}", password="x")
    Membership.objects.create(workspace=ws, user=user, role=Role.ADMIN)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    for name, path in [("list, page 1", "/community/"), ("list, page 100", "/community/?page=100"),
                       ("list, stage fission", "/community/?stage=fission"),
                       ("list, name search", "/community/?q=社群12")]:
        took = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(path)
            took.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        report(f"group {name}", took, 300)


def time_joins(ws: Workspace, joins: int) -> None:
    groups = list(CustomerGroup.objects.for_workspace(ws).order_by("?").values_list("pk", "chat_id")[:joins])
    took: dict[bool, list[float]] = {True: [], False: []}
    now = int(time.time())
    for n, (pk, chat_id) in enumerate(groups):
        # WeCom's answer for the group as we hold it (the same facts), plus the newcomer.
        live = list(GroupMember.objects.for_workspace(ws).filter(group_id=pk, left_at__isnull=True)
                    .values_list("userid", "kind", "join_time", "join_scene", "nickname"))
        members = [{"userid": u, "type": 1 if k == "staff" else 2, "join_time": int(t.timestamp()),
                    "join_scene": s, "group_nickname": nick} for u, k, t, s, nick in live]
        changed = [f"wmnew{pk}x{n}"]
        if len(members) >= 500:
            changed.append(members.pop()["userid"])  # make room: one left as the other joined
        members.append({"userid": changed[0], "type": 2, "join_time": now, "join_scene": 3})
        held = CustomerGroup.objects.for_workspace(ws).get(pk=pk).member_version
        chat = GroupChat.model_validate({"chat_id": chat_id, "name": f"社群{pk}", "owner": live[0][0] if live else "",
                                         "member_list": members, "member_version": f"v{n}"})
        # Alternate: the event's path (we hold LastMemVer: only the changed members are compared)
        # and a full compare (an event after a gap, or the full sync).
        incremental = n % 2 == 0
        started = time.perf_counter()
        with transaction.atomic():
            apply_group(ws, chat, left_at=timezone.now(), quit_scene=0,
                        changed=changed if incremental else None, base_version=held)
        took[incremental].append((time.perf_counter() - started) * 1000)
    report("join event applied (apply_group, in order: the event's members only)", took[True], 10, key=0.99)
    report("join event applied (apply_group, after a gap: every member compared)", took[False], 10, key=0.99)


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    ws = Workspace.objects.filter(slug=SLUG).first()
    if ws is None:
        ws = generate(ARGS.groups)
    groups = CustomerGroup.objects.for_workspace(ws).count()
    members = GroupMember.objects.for_workspace(ws).count()
    live = GroupMember.objects.for_workspace(ws).filter(left_at__isnull=True).count()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    print(f"data: {groups:,} groups, {members:,} memberships ({live:,} live); PostgreSQL {version}; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with workspace_context(ws):
        time_list(ws, ARGS.requests)
        time_joins(ws, ARGS.joins)


if __name__ == "__main__":
    main()
