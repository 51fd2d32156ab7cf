"""群活码 services: other apps import only from here."""

from __future__ import annotations

from siyu.groupcodes.services.codes import (  # noqa: F401 - re-exported
    CONFIG_QUOTA,
    MODULE,
    ChainRow,
    CodeInput,
    CodeRow,
    Quota,
    can_edit,
    chain_of,
    config_quota,
    create_code,
    delete_code,
    expire_due,
    get_code,
    group_choices,
    joined_through,
    list_codes,
    new_state,
    require_edit,
    update_code,
)
from siyu.groupcodes.services.rotation import (  # noqa: F401 - re-exported
    Rotation,
    codes_of_chat,
    on_group_created,
    on_member_joined,
    rotate,
    rotate_all,
)
from siyu.groupcodes.services.welcome import WelcomeInput  # noqa: F401 - re-exported
