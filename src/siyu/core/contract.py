"""The app contract: what each domain app tells the centre about itself, in one place.

A Siyu app's `AppConfig` subclasses `SiyuApp` and fills in the attributes it needs. The centre
(`siyu.urls`, `siyu.api`, the console's navigation, the permission matrix, the demo, the
customer timeline, the profile page and the segment engine) loops over `siyu_apps()`, so adding
an app is its folder plus one line in `INSTALLED_APPS`:

    class ContentConfig(SiyuApp):
        name = "siyu.content"
        label = "content"
        url_prefix = "content/"                      # includes siyu.content.urls
        api_routers = (("/content/", "siyu.content.api.router"),)
        permission_column = PermissionColumn("content", _("Content & SOP"), {...})
        nav = NavEntry("content", "content:home", "✎", order=40)
        timeline_kinds = {"content.sent": _("Content sent")}
        profile_panels = (ProfilePanel("content/_customer_panel.html", "siyu.content.panels.sent"),)
        demo_steps = (DemoStep("siyu.content.demo.seed"),)

`ready()` imports the app's `subscribers` and `tasks` modules when they exist (event
subscriptions and `register_job` cron jobs) and puts its permission column in the matrix.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig, apps
from django.utils.functional import Promise
from django.utils.module_loading import import_string

from siyu.core.permissions import PermissionColumn, register_column


@dataclass(frozen=True)
class NavEntry:
    """A module in the console's left navigation; shown to roles that may view `module`."""

    module: str
    url_name: str
    icon: str
    order: int = 100


@dataclass(frozen=True)
class SectionTab:
    """A tab across the top of a menu section's pages (e.g. 社群: groups, group codes, rules…), so
    apps that share a section are found from each other's pages. Shown to roles that may view
    `module`; the tab whose URL starts the page's path the longest is the active one."""

    section: str  # the module key of the menu entry the tab sits under
    url_name: str
    label: Promise | str
    module: str = ""  # the permission column to check; the section's when empty
    order: int = 100


@dataclass(frozen=True)
class ProfilePanel:
    """A panel an app adds to the customer profile page. `context` is the dotted path of a
    function `(workspace, membership, customer) -> dict | None` (None hides the panel);
    the template is included with that dict as `panel`."""

    template: str
    context: str
    order: int = 100

    def render_context(self, workspace: Any, membership: Any, customer: Any) -> dict[str, Any] | None:
        function: Callable[..., dict[str, Any] | None] = import_string(self.context)
        return function(workspace, membership, customer)


@dataclass(frozen=True)
class CustomerAction:
    """A bulk action an app offers on the customer list's checked rows (e.g. tag, export).
    `view` is the dotted path of `(request, customer_ids, back_url) -> HttpResponse`; the list
    checks the ids, and that the role may view customers and holds `needs` on the permission
    column `module`, before calling it."""

    key: str
    label: Promise | str
    view: str
    needs: str = "e"  # an Action letter: e edit, x export
    order: int = 100
    module: str = "customers"  # the permission column `needs` is checked on

    def run(self, request: Any, customer_ids: list[int], back: str) -> Any:
        return import_string(self.view)(request, customer_ids, back)


@dataclass(frozen=True)
class DemoStep:
    """A step of `siyu demo`'s seeding, a function `(workspace) -> None` by dotted path. Steps
    with `after_twin` run once the WeCom twin answers; the others when the demo brand is made.
    Steps run in `INSTALLED_APPS` order (an app after those it builds on), each idempotent."""

    path: str
    after_twin: bool = True

    def run(self, workspace: Any) -> None:
        import_string(self.path)(workspace)


class SiyuApp(AppConfig):
    """A domain app's declaration to the centre (see the module docstring)."""

    url_prefix: str | None = None  # mounts `<name>.urls` (or `urlconf`) under this prefix
    urlconf: str | None = None
    api_routers: Sequence[tuple[str, str]] = ()  # (prefix under /api, dotted path of a ninja Router)
    nav: NavEntry | None = None
    permission_column: PermissionColumn | None = None
    timeline_kinds: Mapping[str, Promise | str] = {}  # read-only by convention
    # names people read on the Tasks page for the app's subscribers and events, by dotted path / name
    subscriber_labels: Mapping[str, Promise | str] = {}
    event_labels: Mapping[str, Promise | str] = {}
    segment_fields: str | None = None  # dotted path of a function registering segment fields
    profile_panels: Sequence[ProfilePanel] = ()
    section_tabs: Sequence[SectionTab] = ()
    customer_actions: Sequence[CustomerAction] = ()
    # dotted path of `(workspace, states or None) -> [ChannelRef]`: the app that owns channel
    # codes names them for the pages below it (`siyu.customers.channel_codes`)
    channel_directory: str | None = None
    # dotted path of `(workspace, ids or None) -> [GroupCodeRef]`: the app that owns group live codes
    # (群活码) names them for channels' "invite to group" (`siyu.channels.group_codes`)
    group_code_directory: str | None = None
    demo_steps: Sequence[DemoStep] = ()
    autoload: Sequence[str] = ("subscribers", "tasks")

    def ready(self) -> None:
        for submodule in self.autoload:
            dotted = f"{self.name}.{submodule}"
            if importlib.util.find_spec(dotted) is not None:
                importlib.import_module(dotted)
        if self.permission_column is not None:
            register_column(self.permission_column)
        for kind in self.timeline_kinds:
            if not kind.startswith(f"{self.label}."):
                raise ValueError(f"timeline kind {kind!r} of {self.label} must start with '{self.label}.'")

    def routes(self) -> str:
        """The urlconf mounted under `url_prefix` (when it is set): `urlconf`, else `<name>.urls`."""
        return self.urlconf or f"{self.name}.urls"


def siyu_apps() -> list[SiyuApp]:
    """The installed Siyu apps, in `INSTALLED_APPS` order."""
    return [config for config in apps.get_app_configs() if isinstance(config, SiyuApp)]


def profile_panels() -> list[ProfilePanel]:
    return sorted((p for app in siyu_apps() for p in app.profile_panels), key=lambda p: p.order)


def section_tabs(section: str) -> list[SectionTab]:
    return sorted((t for app in siyu_apps() for t in app.section_tabs if t.section == section), key=lambda t: t.order)


def customer_actions() -> list[CustomerAction]:
    return sorted((a for app in siyu_apps() for a in app.customer_actions), key=lambda a: a.order)


def channel_directory() -> Callable[..., Any] | None:
    """The installed app's channel-code directory (`SiyuApp.channel_directory`), if one names it."""
    path = next((app.channel_directory for app in siyu_apps() if app.channel_directory), None)
    return import_string(path) if path else None


def group_code_directory() -> Callable[..., Any] | None:
    """The installed app's group-code directory (`SiyuApp.group_code_directory`), if one names it."""
    path = next((app.group_code_directory for app in siyu_apps() if app.group_code_directory), None)
    return import_string(path) if path else None


def timeline_kinds() -> dict[str, Promise | str]:
    """Every timeline kind the installed apps write, with its label."""
    return {kind: label for app in siyu_apps() for kind, label in app.timeline_kinds.items()}


def subscriber_labels() -> dict[str, Promise | str]:
    """The installed apps' names for their subscribers (`SiyuApp.subscriber_labels`)."""
    return {path: label for app in siyu_apps() for path, label in app.subscriber_labels.items()}


def event_labels() -> dict[str, Promise | str]:
    """The installed apps' names for their domain events (`SiyuApp.event_labels`)."""
    return {name: label for app in siyu_apps() for name, label in app.event_labels.items()}
