"""Tenancy: every domain row belongs to a workspace (a brand), and queries are scoped by default.

`Model.objects` refuses to run without a workspace: either the request-scoped current workspace
(set by `CurrentWorkspaceMiddleware`, by the API's token auth and by tasks through
`workspace_context`) or an explicit `.for_workspace(ws)`. System code that must cross workspaces
(sweeps, the platform operator's pages) says so with `Model.unscoped`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

if TYPE_CHECKING:
    from siyu.core.models import Workspace

_current: ContextVar[Workspace | None] = ContextVar("siyu_current_workspace", default=None)

M = TypeVar("M", bound=models.Model)


class WorkspaceRequired(RuntimeError):
    """A scoped model was queried with no workspace in context."""


def current_workspace() -> Workspace | None:
    return _current.get()


@contextmanager
def workspace_context(workspace: Workspace | None) -> Iterator[None]:
    token = _current.set(workspace)
    try:
        yield
    finally:
        _current.reset(token)


class WorkspaceManager(models.Manager[M]):
    def get_queryset(self) -> models.QuerySet[M]:
        workspace = current_workspace()
        if workspace is None:
            raise WorkspaceRequired(
                f"{self.model.__name__} queried without a workspace; "
                "use .for_workspace(ws) or workspace_context(ws)"
            )
        return super().get_queryset().filter(workspace=workspace)

    def for_workspace(self, workspace: Workspace) -> models.QuerySet[M]:
        queryset = super().get_queryset().filter(workspace=workspace)
        context = current_workspace()
        if context is not None and context.pk != workspace.pk:
            # Asking for another brand inside a brand's request yields nothing, never a leak.
            return queryset.none()
        return queryset

    def create(self, **kwargs: Any) -> M:
        workspace = kwargs.get("workspace") or current_workspace()
        if workspace is None:
            raise WorkspaceRequired(f"{self.model.__name__} created without a workspace")
        kwargs["workspace"] = workspace
        return super().get_queryset().create(**kwargs)


class WorkspaceScoped(models.Model):
    """Base of every domain model: the row belongs to one workspace (品牌)."""

    workspace = models.ForeignKey("core.Workspace", on_delete=models.CASCADE, related_name="+")

    objects = WorkspaceManager()
    unscoped = models.Manager()  # noqa: DJ012 - a manager too (the lint takes it for a field)

    class Meta:
        abstract = True
        base_manager_name = "unscoped"


def switch_request_workspace(workspace: Workspace) -> None:
    """For auth layers inside a request: CurrentWorkspaceMiddleware restores the context after."""
    _current.set(workspace)
