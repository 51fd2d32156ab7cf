"""Helpers for the API client's tests against the twin."""

from __future__ import annotations

from typing import Any

from siyu.core.models import Workspace
from siyu.wecom.client import WeComClient
from siyu.wecom.models import ApiCall, WeComConnection
from tests.simulator.twin import AES_KEY, CORP_ID, SECRET, TOKEN

BACKOFF = 0.25


def connect(api_base: str, secret: str = SECRET, slug: str = "alpha") -> WeComConnection:
    workspace = Workspace.objects.create(name=f"Brand {slug}", slug=slug)
    connection = WeComConnection(
        workspace=workspace, corp_id=CORP_ID, agent_id="1000002", api_base=api_base
    )
    connection.set_secrets(secret=secret, token=TOKEN, aes_key=AES_KEY)
    connection.save()
    return connection


class Sleeps(list[float]):
    """Records the client's sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def calls(client: WeComClient) -> list[tuple[str, int | None, int]]:
    rows = ApiCall.objects.for_workspace(client.connection.workspace).order_by("id")
    return [(c.endpoint, c.errcode, c.attempt) for c in rows]


def add_customer(api_twin: Any, ext: str, staff: str = "zhangsan") -> str:
    """A customer added to the twin (a friend of `staff`)."""
    api_twin.admin.post(
        "/twin/customers/add", json={"external_userid": ext, "name": ext, "staff_userid": staff}
    ).raise_for_status()
    return ext
