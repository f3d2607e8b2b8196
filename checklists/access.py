"""The only guarded lookups of cases and responses.

Every view that touches a case or a response gets it from here. A case or response the
user may not see is a 404 (never a 403), so its existence is not disclosed.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import Http404

from .models import ChecklistResponse, PatientCase, Team

CLINICAL_PERMISSION = "checklists.change_checklistresponse"
EXPORT_PERMISSION = "checklists.export_responses"


class ResponseLocked(Exception):
    """A write was attempted on a response that is no longer a draft."""

    def __init__(self, response: ChecklistResponse):
        self.response = response
        super().__init__(
            f"This checklist is {response.get_status_display().lower()} and can no longer be "
            "changed. To correct it, amend it: a new revision keeps this one intact."
        )


class NotClinician(Exception):
    """The user may see the case but not write clinical data."""


def teams_for_user(user):
    return Team.objects.filter(members=user) if user.is_authenticated else Team.objects.none()


def _holds(user, permission: str) -> bool:
    """Whether an active user holds one permission, directly or through a group.

    One query, cached on the user object (Django's has_perm would load every permission
    the user has, in two).
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_held_permissions", None)
    if cache is None:
        cache = user._held_permissions = {}  # set through a request's lazy user as well
    if permission not in cache:
        app_label, codename = permission.split(".")
        cache[permission] = Permission.objects.filter(
            Q(user=user) | Q(group__user=user),
            content_type__app_label=app_label,
            codename=codename,
        ).exists()
    return cache[permission]


def can_write_clinical(user) -> bool:
    """Whether the user holds the clinical write permission (one query, cached on the user)."""
    return _holds(user, CLINICAL_PERMISSION)


def can_export_responses(user) -> bool:
    """Whether the user may export responses in bulk (their teams' cases only)."""
    return _holds(user, EXPORT_PERMISSION)


def get_case_for_user(user, case_id: int, *, for_edit: bool = False) -> PatientCase:
    case = PatientCase.objects.visible_to(user).select_related("team").filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case.")
    if for_edit and not can_write_clinical(user):
        raise NotClinician()
    return case


def get_response_for_user(user, response_id: int, *, for_edit: bool = False) -> ChecklistResponse:
    response = (
        ChecklistResponse.objects.visible_to(user)
        .select_related("case__team", "version__template", "started_by", "signed_by")
        .filter(pk=response_id)
        .first()
    )
    if response is None:
        raise Http404("No such checklist.")
    if for_edit:
        if not can_write_clinical(user):
            raise NotClinician()
        if not response.is_draft:
            raise ResponseLocked(response)
    return response
