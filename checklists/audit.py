"""Writing audit events: the one function every write path calls inside its transaction.

Most writes know their actor: the view passes `request.user` and `client_ip(request)`.
Events heard through Django's model and many-to-many signals (group, permission, team and
staff changes) do not: the signal carries the changed row, not the request. For those the
request being handled is kept in a context variable (`AuditRequestMiddleware` sets it,
`record_by_current_actor` reads it), rather than in the admin's `save_model`/`save_related`
hooks, because the signals fire from every path that changes these rows: the Team admin,
Django's own User admin (which we would otherwise have to replace), a future view, the shell
and management commands. One receiver per kind of change then writes exactly one event
whatever the path, with the actor when there is a request and `{"via": "outside a
request"}` when there is none. A context variable is per thread and per asyncio task, and
the middleware resets it when the request ends, so no request's user leaks into another.
"""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.utils import timezone

from .models import AuditEvent

OUTSIDE_A_REQUEST = {"via": "outside a request"}

_request: ContextVar[Any] = ContextVar("audit_request", default=None)


def client_ip(request) -> str | None:
    """The peer address Django saw. Behind a proxy, set it up to rewrite REMOTE_ADDR."""
    return request.META.get("REMOTE_ADDR") or None if request is not None else None


def record(
    action: str,
    *,
    user=None,
    obj=None,
    case_id: int | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    supersedes: AuditEvent | None = None,
) -> AuditEvent:
    authenticated = user is not None and user.is_authenticated
    return AuditEvent.objects.create(
        supersedes=supersedes,
        action=action,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        case_id=case_id,
        ip_address=ip,
        detail=detail or {},
    )


# Saves of one section by one person within this long of the first fold into one event.
FOLD_WINDOW = datetime.timedelta(minutes=10)


def record_section_save(
    *, user, response, section: str, changed: list[str], ip: str | None = None
) -> AuditEvent:
    """A section saved (by the button or an autosave), folded with the saves of the same
    section by the same person in the last ten minutes (issue 19: one intake wrote about 88
    "section saved" events).

    The trail stays insert-only: the database role may be granted INSERT and SELECT alone
    (README), so no event is ever updated, not even an "open" one. Instead each save inside
    a window writes a new event carrying the window's running tally (`saves`, every item
    `changed` in the window, `since`: the first save's time) and `supersedes` the window's
    previous event; the trail (`AuditEventQuerySet.in_trail`) shows only the latest event
    of each window, and every earlier row stays in the table as it was written. A window
    is fixed from its first save, so one event never covers more than ten minutes.
    """
    now = timezone.now()
    opened = (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.SECTION_SAVED,
            case_id=response.case_id,
            object_type=response._meta.model_name,
            object_id=str(response.pk),
            user=user,
            superseded_by__isnull=True,
            at__gte=now - FOLD_WINDOW,
            detail__section=section,
        )
        .order_by("-at", "-id")
        .first()
    )
    since = _window_start(opened)
    if opened is None or since is None or since < now - FOLD_WINDOW:
        opened, since, saves, items = None, now, 1, list(changed)
    else:
        saves = int(opened.detail.get("saves", 1)) + 1
        items = [
            *opened.detail.get("changed", []),
            *(k for k in changed if k not in opened.detail.get("changed", [])),
        ]
    detail = {"section": section, "changed": items, "saves": saves, "since": since.isoformat()}
    return record(
        AuditEvent.Action.SECTION_SAVED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail=detail,
        supersedes=opened,
    )


def _window_start(event: AuditEvent | None) -> datetime.datetime | None:
    if event is None:
        return None
    try:
        return datetime.datetime.fromisoformat(event.detail["since"])
    except (KeyError, TypeError, ValueError):  # an event written before the fold
        return event.at


@contextmanager
def handling(request):
    """While the block runs, `request` is the one events without an actor are charged to."""
    token = _request.set(request)
    try:
        yield
    finally:
        _request.reset(token)


def record_by_current_actor(action: str, *, obj=None, detail: dict[str, Any]) -> AuditEvent:
    """Record an event heard through a signal, charged to the request being handled (its
    user and address), or marked as made outside a request."""
    request = _request.get()
    if request is None:
        return record(action, obj=obj, detail={**detail, **OUTSIDE_A_REQUEST})
    return record(
        action,
        user=getattr(request, "user", None),
        obj=obj,
        ip=client_ip(request),
        detail=detail,
    )


class AuditRequestMiddleware:
    """Keeps the request at hand for `record_by_current_actor` (see the module's docstring).
    After AuthenticationMiddleware in settings, so `request.user` is set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with handling(request):
            return self.get_response(request)
