"""The tasks page shows the platform's health: workers and their heartbeats, the scheduler
leader, the queue by priority and the brand's waiting WeCom callbacks."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.core.models import SchedulerLease, WorkerHeartbeat
from siyu.wecom.models import InboundEvent
from tests.support.slow_tasks import slow_append


def test_a_stopped_platform_says_so(brand_a, login):
    html = login(brand_a.admin).get("/tasks/").content.decode()
    assert 'data-testid="health"' in html
    assert "后台任务没有在运行" in html and "定时任务不会触发" in html


def test_workers_leader_queue_and_backlog_are_shown(brand_a, brand_b, login, tmp_path,
                                                    django_capture_on_commit_callbacks):
    now = timezone.now()
    for worker_id, seen in (("host-1-alive", now), ("host-2-silent", now - dt.timedelta(minutes=5))):
        WorkerHeartbeat.objects.create(worker_id=worker_id, pid=1, hostname="host", started_at=seen, last_seen=seen)
    SchedulerLease.objects.create(name="scheduler", holder="host:42:abc", expires_at=now + dt.timedelta(seconds=15))
    with django_capture_on_commit_callbacks(execute=True):  # the queue takes tasks after commit
        slow_append.using(priority=50).enqueue(str(tmp_path / "x"), "a", 0)
        slow_append.enqueue(str(tmp_path / "y"), "b", 0)
    for n, workspace in enumerate([brand_a.workspace, brand_a.workspace, brand_b.workspace]):
        InboundEvent.objects.create(workspace=workspace, dedupe_key=f"k{n}", kind="change_external_contact",
                                    raw_xml="<xml/>")
    html = login(brand_a.admin).get("/tasks/").content.decode()
    panel = html.split('data-testid="health"')[1].split('data-testid="runs"')[0]
    assert "host-1-alive" in panel and "host-2-silent" in panel and "无心跳" in panel
    assert "host:42:abc" in panel
    assert "优先级 50：1 个等待中" in panel and "优先级 0：1 个等待中" in panel
    assert "待处理的企业微信回调" in panel and ">2 <" in panel.replace("</div>", " <")  # this brand's two, not the other's


def test_roles_without_the_system_module_may_not_see_it(brand_a, login):
    assert login(brand_a.members["copywriter"]).get("/tasks/").status_code == 403
