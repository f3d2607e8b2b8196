"""Session lifetime: 30 minutes idle, 12 hours in all (ASVS 4.0 3.3.2, HIPAA automatic logoff).

The login time and the last activity are kept in the session itself (server-side, in the
database). The activity stamp is refreshed at most once a minute, so a busy clinician does
not cost a session write on every page; the idle limit is therefore exact to within that
minute, and never longer than 30 minutes.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

LOGIN_AT = "auth_login_at"
SEEN_AT = "auth_seen_at"
# How stale the activity stamp may get before it is written again, in seconds.
SEEN_AT_RESOLUTION = 60


def _now() -> float:
    return timezone.now().timestamp()


def stamp_login(sender, request, user, **kwargs) -> None:
    """On every login (the login page, the admin, the test client): start both clocks."""
    if getattr(request, "session", None) is not None:
        now = _now()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def expiry_reason(session) -> str | None:
    """Why a signed-in session has ended ("idle" or "absolute"), or None if it goes on.

    A session with no stamps did not come through a login and is treated as ended.
    """
    now = _now()
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if login_at is None or seen_at is None:
        return "absolute"
    if now - login_at >= settings.SESSION_ABSOLUTE_TIMEOUT:
        return "absolute"
    if now - seen_at >= settings.SESSION_IDLE_TIMEOUT:
        return "idle"
    return None


def touch(session) -> None:
    """Record activity, writing the session only when the stamp is a minute old."""
    now = _now()
    if now - session.get(SEEN_AT, 0) >= SEEN_AT_RESOLUTION:
        session[SEEN_AT] = now
