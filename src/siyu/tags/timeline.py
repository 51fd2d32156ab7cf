"""Timeline kinds the tags app writes (see `siyu.customers.timeline`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TagTimeline(models.TextChoices):
    TAGGED = "tags.tagged", _("Tagged")
    UNTAGGED = "tags.untagged", _("Untagged")
