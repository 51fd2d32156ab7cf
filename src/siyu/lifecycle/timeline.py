"""Timeline kinds the lifecycle app writes (see `siyu.customers.timeline`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LifecycleTimeline(models.TextChoices):
    STAGE_CHANGED = "lifecycle.stage_changed", _("Lifecycle stage changed")
