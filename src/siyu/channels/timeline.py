"""Timeline kinds the channels app writes (see `siyu.customers.timeline`)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelTimeline(models.TextChoices):
    WELCOME_SENT = "channels.welcome_sent", _("Welcome message sent")
    WELCOME_MISSED = "channels.welcome_missed", _("Welcome message missed")
    WELFARE_ISSUED = "channels.welfare_issued", _("Welfare issued")
    WELFARE_REDEEMED = "channels.welfare_redeemed", _("Welfare redeemed")
