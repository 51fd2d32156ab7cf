"""The sign-in lockout holds under concurrent attempts: at most LOGIN_MAX_FAILURES passwords are
checked per (username, client), whichever cache the instance uses."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections

from siyu.core import services
from siyu.core.models import SignInCounter
from siyu.core.retention import prune_history

ATTEMPTS = 30
LIMIT = 5


def _redis_reachable() -> bool:
    try:
        import redis
    except ImportError:
        return False
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, db=12, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["database-cache", "redis-cache"])
def cache_backend(request: pytest.FixtureRequest, settings) -> Iterator[str]:
    from django.core.cache import caches

    if request.param == "redis-cache":
        if not _redis_reachable():
            pytest.skip("Redis (127.0.0.1:6379) or the redis package is not available")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/12"}
        }
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many passwords were checked, counted across threads."""
    checks: Counter[str] = Counter()
    lock = threading.Lock()
    check_password = AbstractBaseUser.check_password

    def counted(user: AbstractBaseUser, raw_password: str | None) -> bool:
        with lock:
            checks["checked"] += 1
        return check_password(user, raw_password)

    monkeypatch.setattr(AbstractBaseUser, "check_password", counted)
    return checks


def _at_once(attempt: Callable[[], object], count: int) -> Counter[str]:
    """Run `attempt()` in `count` threads released together; count what each answered."""
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run() -> None:
        start.wait()
        try:
            attempt()
            answer = "signed in"
        except services.LoginRefused as refused:
            answer = "locked" if refused.locked else "wrong password"
        finally:
            connections.close_all()
        with lock:
            answers[answer] += 1

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_concurrent_wrong_passwords_check_at_most_the_limit(
    transactional_db: None, brand_a, settings, cache_backend: str, password_checks: Counter[str]
):
    settings.SIYU = {**settings.SIYU, "LOGIN_MAX_FAILURES": LIMIT}
    answers = _at_once(lambda: services.sign_in("alpha-admin", "wrong", "10.0.0.9"), ATTEMPTS)
    assert sum(answers.values()) == ATTEMPTS
    assert password_checks["checked"] <= LIMIT
    assert answers["wrong password"] <= LIMIT
    assert answers["locked"] >= ATTEMPTS - LIMIT


def test_concurrent_right_passwords_past_the_limit_are_refused_too(
    transactional_db: None, brand_a, settings, password_checks: Counter[str]
):
    from tests.conftest import PASSWORD

    settings.SIYU = {**settings.SIYU, "LOGIN_MAX_FAILURES": LIMIT}
    for _ in range(LIMIT):
        with pytest.raises(services.LoginRefused):
            services.sign_in("alpha-admin", "wrong", "10.0.0.9")
    answers = _at_once(lambda: services.sign_in("alpha-admin", PASSWORD, "10.0.0.9"), 10)
    assert answers == {"locked": 10}
    assert password_checks["checked"] == LIMIT


def test_the_window_runs_out_and_expired_counters_are_pruned(db, brand_a, settings):
    import datetime as dt

    from django.utils import timezone

    from siyu.core import lockout
    from tests.conftest import PASSWORD

    settings.SIYU = {**settings.SIYU, "LOGIN_MAX_FAILURES": 2, "LOGIN_LOCKOUT_SECONDS": 60}
    for _ in range(2):
        with pytest.raises(services.LoginRefused):
            services.sign_in("alpha-admin", "wrong", "10.0.0.9")
    with pytest.raises(services.LoginRefused) as refused:
        services.sign_in("alpha-admin", PASSWORD, "10.0.0.9")
    assert refused.value.locked
    SignInCounter.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.sign_in("alpha-admin", PASSWORD, "10.0.0.9").get_username() == "alpha-admin"
    assert not SignInCounter.objects.exists()  # a successful sign-in clears its counter

    with pytest.raises(services.LoginRefused):
        services.sign_in("alpha-admin", "wrong", "10.0.0.10")
    assert lockout.prune_expired() == 0  # still in its window
    SignInCounter.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert prune_history.call() == {"core.SignInCounter": 1}
