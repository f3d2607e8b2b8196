"""What django-axes records about a failed login."""

from __future__ import annotations

from django.contrib.auth import get_user_model


def username_for_lockout(request, credentials: dict | None) -> str | None:
    """The username as typed, cut to the longest a real account can have.

    Django's login forms do not enforce the username's length, so a megabyte of "username"
    reached axes, whose 255-character column refused it (a 500 on PostgreSQL). No account
    has a longer name, so cutting cannot merge two real accounts' counts.
    """
    field = get_user_model().USERNAME_FIELD
    if credentials and credentials.get(field) is not None:
        username = credentials[field]
    else:
        username = request.POST.get(field) if request is not None else None
    if username is None:
        return None
    return str(username)[: get_user_model()._meta.get_field(field).max_length]
