from django.db import models
from django.utils.translation import gettext_lazy as _


class PointsTimeline(models.TextChoices):
    """The customer's timeline entries for check-ins and redemptions."""

    CHECKED_IN = "points.checked_in", _("Checked in")
    REDEEMED = "points.redeemed", _("Redeemed points")
    ADJUSTED = "points.adjusted", _("Points adjusted")
