from django.db import models
from django.utils.translation import gettext_lazy as _


class CommunityTimeline(models.TextChoices):
    """Customer-timeline kinds the community app writes."""

    SPLIT_CORE = "community.split_core", _("Named for a group split")
