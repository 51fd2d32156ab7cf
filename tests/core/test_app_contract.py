"""The app contract: adding an app is its folder plus one line in INSTALLED_APPS.

The throwaway app (tests/support/throwaway/) is installed in a separate process, with the
platform's settings plus that one line, against the test database; its page, API route, nav
entry, permission column, cron job and timeline kind must all appear there, and none of them
here, where it is not installed."""

import json
import os
import subprocess
import sys

import pytest
from django.urls import NoReverseMatch, reverse

from siyu.core.contract import siyu_apps, timeline_kinds
from siyu.core.permissions import columns
from siyu.core.schedule import jobs
from tests.conftest import REPO

pytestmark = pytest.mark.slow

PROBE = """
import json, django
django.setup()
from django.conf import settings
settings.ALLOWED_HOSTS = ["testserver"]
settings.STORAGES = {**settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.contrib.auth import get_user_model
from django.test import Client
from siyu.core.contract import timeline_kinds
from siyu.core.permissions import allows
from siyu.core.schedule import jobs

client = Client()
client.force_login(get_user_model().objects.get(username="alpha-admin"))
page = client.get("/throwaway/")
home = client.get("/")
api = client.get("/api/throwaway/ping")
copywriter = Client()
copywriter.force_login(get_user_model().objects.get(username="alpha-copywriter"))
print(json.dumps({
    "page": [page.status_code, page.content.decode()],
    "nav": 'href="/throwaway/"' in home.content.decode(),
    "api": [api.status_code, api.json()],
    "denied": copywriter.get("/throwaway/").status_code,
    "copywriter_nav": 'href="/throwaway/"' in copywriter.get("/").content.decode(),
    "jobs": sorted(job.name for job in jobs()),
    "kinds": sorted(timeline_kinds()),
    "ops_lead_may_view": allows("ops_lead", "throwaway", "v"),
}))
"""


def test_a_new_app_is_its_folder_plus_one_line_in_installed_apps(brand_a, process_env):
    env = {**os.environ, **process_env, "PYTHONPATH": str(REPO),
           "DJANGO_SETTINGS_MODULE": "tests.support.throwaway_settings"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["page"] == [200, "throwaway page of alpha"]
    assert seen["nav"] is True
    assert seen["api"] == [200, {"pong": "throwaway"}]
    assert seen["denied"] == 403 and seen["copywriter_nav"] is False
    assert "throwaway.tick" in seen["jobs"]
    assert "throwaway.poked" in seen["kinds"]
    assert seen["ops_lead_may_view"] is True


def test_without_the_line_nothing_of_it_appears(brand_a, client):
    with pytest.raises(NoReverseMatch):
        reverse("throwaway:home")
    assert "throwaway" not in {app.label for app in siyu_apps()}
    assert "throwaway.tick" not in {job.name for job in jobs()}
    assert "throwaway" not in {c.module for c in columns()}
    assert not any(kind.startswith("throwaway.") for kind in timeline_kinds())
    client.force_login(brand_a.admin)
    assert client.get("/throwaway/").status_code == 404


def test_every_installed_app_declares_itself_once():
    labels = [app.label for app in siyu_apps()]
    assert labels[:3] == ["core", "wecom", "ip"] and labels[-1] == "console"
    for app in siyu_apps():
        if app.nav is not None:
            assert app.nav.module in {c.module for c in columns()}, app.label
        for kind in app.timeline_kinds:
            assert kind.startswith(f"{app.label}."), kind
