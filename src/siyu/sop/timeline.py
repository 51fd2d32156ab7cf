from django.db import models
from django.utils.translation import gettext_lazy as _


class SopTimeline(models.TextChoices):
    """The customer's timeline entries for each SOP step's outcome."""

    STEP_SENT = "sop.step_sent", _("SOP step fired")
    STEP_SKIPPED = "sop.step_skipped", _("SOP step skipped")
    STEP_EXPIRED = "sop.step_expired", _("SOP step expired")
    STEP_FAILED = "sop.step_failed", _("SOP step failed")
