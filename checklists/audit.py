"""Writing audit events: the one function every write path calls inside its transaction."""

from __future__ import annotations

from typing import Any

from .models import AuditEvent


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
