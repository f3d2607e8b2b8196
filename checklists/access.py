"""The only guarded lookups of cases and responses.

Every view that touches a case or a response gets it from here. A case or response the
user may not see is a 404 (never a 403), so its existence is not disclosed.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404

from .models import ChecklistResponse, PatientCase, Team, TemplateVersion

CLINICAL_PERMISSION = "checklists.change_checklistresponse"
CONTENT_PERMISSION = "checklists.change_templateversion"
PUBLISH_PERMISSION = "checklists.publish_templateversion"


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


def can_write_clinical(user) -> bool:
    """Whether the user holds the clinical write permission (one query, cached on the user)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_can_write_clinical"):
        app_label, codename = CLINICAL_PERMISSION.split(".")
        user._can_write_clinical = Permission.objects.filter(
            Q(user=user) | Q(group__user=user),
            content_type__app_label=app_label,
            codename=codename,
        ).exists()
    return user._can_write_clinical


def can_edit_content(user) -> bool:
    """Content editors (and superusers): draft, submit, send back and retire versions."""
    return user.is_authenticated and user.is_active and user.has_perm(CONTENT_PERMISSION)


def can_publish_content(user) -> bool:
    """Who may approve a version; the two-person rule itself lives in the service."""
    return user.is_authenticated and user.is_active and user.has_perm(PUBLISH_PERMISSION)


def get_case_for_user(user, case_id: int, *, for_edit: bool = False) -> PatientCase:
    case = PatientCase.objects.visible_to(user).select_related("team").filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case.")
    if for_edit and not can_write_clinical(user):
        raise NotClinician()
    return case


def get_response_for_user(user, response_id: int, *, for_edit: bool = False) -> ChecklistResponse:
    """The response, with `current_version_id` and `current_version_number` (the template's
    published version now) annotated in the same query, for the "answered against v3"
    notice."""
    current = TemplateVersion.objects.published().filter(template_id=OuterRef("version__template"))
    response = (
        ChecklistResponse.objects.visible_to(user)
        .select_related("case__team", "version__template", "started_by", "signed_by")
        .annotate(
            current_version_id=Subquery(current.values("pk")[:1]),
            current_version_number=Subquery(current.values("number")[:1]),
        )
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
