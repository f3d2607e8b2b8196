"""Password rules Django does not ship (the others are configured in settings), and the
password asked again of a signed-in user."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.views.decorators.debug import sensitive_variables

from . import events


class MaximumLengthValidator:
    """Refuse passwords longer than `max_length` characters.

    Long passphrases are welcome (ASVS asks that at least 64 characters be accepted); the
    cap only stops megabyte "passwords" from costing a million PBKDF2 rounds each.
    """

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: use at most {self.max_length} characters.",
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."


@sensitive_variables("password")
def confirm(user, password: str, *, form: str, ip: str | None) -> bool:
    """Whether `password` is the signed-in user's, asked again before a signature or a
    change to the account. A wrong one is written to the audit trail (`form` says where);
    counting it toward the lockout is the caller's (lockout.count_refusal)."""
    if user.check_password(password):
        return True
    events.record(events.Action.PASSWORD_REFUSED, owner=user, ip=ip, form=form)
    return False
