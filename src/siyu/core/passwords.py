"""A hook on every password change, wherever it is made.

Listed in AUTH_PASSWORD_VALIDATORS, though it judges no password: Django calls each configured
validator's `password_changed` after a user saved with a new password (`set_password` then
`save`), so the console's page, `siyu changepassword` and any future reset all revoke the user's
API tokens. The console's `change_password` service revokes them itself first, to say how many.
"""

from __future__ import annotations

from typing import Any

from siyu.core import services


class RevokeApiTokens:
    def validate(self, password: str, user: Any = None) -> None:
        return None

    def get_help_text(self) -> str:
        return ""

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None:
            return
        services.revoke_api_tokens(user)
