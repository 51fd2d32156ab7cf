"""Reading the audit log in tests: the newest entry of a brand, in words."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from siyu.core.auditing import describe
from siyu.core.models import AuditEntry


def last_entry(workspace: Any) -> AuditEntry:
    return AuditEntry.objects.for_workspace(workspace).order_by("-at", "-id").first()


def last_words(workspace: Any, language: str = "zh-hans") -> str:
    """The newest entry as the audit page says it (its actor, module and sentence)."""
    entry = last_entry(workspace)
    with translation.override(language):
        return f"{entry.actor_name} [{entry.module}/{entry.action}] {describe(entry)}"
