"""The customers hub's own timeline kinds. Timeline kinds are open, app-prefixed keys: each app
declares the kinds it writes in its contract (`SiyuApp.timeline_kinds`), so a new kind never
needs a migration of `customers`."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimelineKind(models.TextChoices):
    ADDED = "customers.added", _("Added a staff account")
    DELETED_STAFF = "customers.deleted_staff", _("Deleted a staff account")
    DELETED_BY_STAFF = "customers.deleted_by_staff", _("Deleted by staff")
    TRANSFERRED = "customers.transferred", _("Transferred")
    REMARKED = "customers.remarked", _("Remark changed")
    FIELD_CHANGED = "customers.field_changed", _("Profile field changed")
    TRANSFER_REQUESTED = "customers.transfer_requested", _("Transfer requested")
    CHURN = "customers.churn", _("Churn alert")
    UNLISTED = "customers.unlisted", _("No longer a friend (found by a full sync)")
    GROUP_JOINED = "customers.group_joined", _("Joined a customer group")
    GROUP_LEFT = "customers.group_left", _("Left a customer group")
