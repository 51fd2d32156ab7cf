from django.db import models
from django.utils.translation import gettext_lazy as _


class FissionTimeline(models.TextChoices):
    """The customer's timeline entries for 任务宝 campaigns."""

    JOINED = "fission.joined", _("Joined a fission campaign")
    INVITE_COUNTED = "fission.invite_counted", _("Invite counted")
    REWARD_ISSUED = "fission.reward_issued", _("Fission reward issued")
