from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn
from siyu.fission.timeline import FissionTimeline


class FissionConfig(contract.SiyuApp):
    """裂变 — invite-N-friends campaigns (任务宝), group fission and referrals, posters and fraud guards.

    Its pages live in two places: the console under `fission/` and the fans' campaign page under
    `/m/<brand>/fan/fission/` (the fan session's cookie is scoped to `/m/`), so the app mounts its
    own urlconf at the root."""

    name = "siyu.fission"
    label = "fission"
    verbose_name = "Fission"
    url_prefix = ""
    urlconf = "siyu.fission.urls"
    permission_column = PermissionColumn("fission", _("Fission"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "v", "data_analyst": "vx", "merchandiser": "v",
    }, order=60)
    nav = contract.NavEntry("fission", "fission:home", "✺", order=60)
    timeline_kinds = dict(FissionTimeline.choices)
    subscriber_labels = {
        "siyu.fission.subscribers.count_invite": _("Count a fission invite"),
        "siyu.fission.subscribers.revoke_invite": _("Revoke a fission invite inside the hold"),
    }
