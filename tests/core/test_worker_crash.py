"""A worker killed mid-task: the task is retried by another worker, not lost."""

import os
import signal

import pytest
from django_tasks_db.models import DBTaskResult

from siyu.core.models import WorkerHeartbeat
from siyu.core.tasks import requeue_orphaned_tasks
from tests.conftest import siyu_process, wait_for
from tests.support.slow_tasks import slow_append

pytestmark = pytest.mark.slow


def test_task_of_a_killed_worker_is_requeued_and_completed_once(process_env, tmp_path, settings):
    settings.SIYU = {**settings.SIYU, "WORKER_DEAD_AFTER_SECONDS": 2}
    env = {**process_env, "SIYU_WORKER_HEARTBEAT_SECONDS": "1"}
    out = tmp_path / "effects.txt"
    result = slow_append.enqueue(str(out), "parcel-42", 3.0)

    first = siyu_process(["worker", "--interval", "0.1"], env, tmp_path / "worker1.log")
    wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "RUNNING", timeout=60)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()

    # While the dead worker's heartbeat is fresh, nothing is touched.
    dead_worker = DBTaskResult.objects.get(pk=result.id).worker_ids[-1]
    assert WorkerHeartbeat.objects.filter(worker_id=dead_worker).exists()
    assert requeue_orphaned_tasks() == 0
    assert DBTaskResult.objects.get(pk=result.id).status == "RUNNING"
    wait_for(lambda: requeue_orphaned_tasks() == 1, timeout=10, interval=0.5)
    assert DBTaskResult.objects.get(pk=result.id).status == "READY"
    # The dead worker's heartbeat went with the re-queue.
    assert not WorkerHeartbeat.objects.filter(worker_id=dead_worker).exists()

    second = siyu_process(["worker", "--interval", "0.1"], env, tmp_path / "worker2.log")
    try:
        wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL", timeout=60)
    except AssertionError as exc:  # say what the worker saw, so a failure on CI can be read
        task = DBTaskResult.objects.get(pk=result.id)
        raise AssertionError(f"{exc}; task {task.status} {task.worker_ids} {task.traceback}\n"
                             f"worker exit {second.poll()}; log:\n{(tmp_path / 'worker2.log').read_text()}") from exc
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert out.read_text().splitlines() == ["parcel-42"]
    assert len(DBTaskResult.objects.get(pk=result.id).worker_ids) == 2


def test_a_failing_task_is_visible_with_its_error(process_env, tmp_path):
    result = slow_append.enqueue(str(tmp_path / "no-such-dir" / "x.txt"), "x", 0)
    worker = siyu_process(["worker", "--interval", "0.1"], process_env, tmp_path / "worker.log")
    try:
        wait_for(lambda: DBTaskResult.objects.get(pk=result.id).status == "FAILED", timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    failed = DBTaskResult.objects.get(pk=result.id)
    assert "FileNotFoundError" in failed.exception_class_path
    assert "no-such-dir" in failed.traceback
