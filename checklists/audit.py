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

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

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
) -> AuditEvent:
    authenticated = user is not None and user.is_authenticated
    return AuditEvent.objects.create(
        action=action,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        case_id=case_id,
        ip_address=ip,
        detail=detail or {},
    )


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
