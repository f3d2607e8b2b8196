"""The only guarded lookups of cases and responses.

Every view that touches a case or a response gets it from here. A case or response the
user may not see is a 404 (never a 403), so its existence is not disclosed.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404

from .models import (
    CertificateOfAnalysis,
    ChecklistResponse,
    Lot,
    PatientCase,
    Team,
    TemplateVersion,
)

CLINICAL_PERMISSION = "checklists.change_checklistresponse"
EXPORT_PERMISSION = "checklists.export_responses"
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


RETURN_PERMISSION = "checklists.return_checklistresponse"


def can_return_for_amendment(user) -> bool:
    return holds_permission(user, RETURN_PERMISSION)


def teams_for_user(user):
    return Team.objects.filter(members=user) if user.is_authenticated else Team.objects.none()


def holds_permission(user, permission: str) -> bool:
    """Whether the user holds a permission, directly or through a group.

    The first check loads all of the user's permissions in one query and caches them on
    the user object for the request (Django's has_perm takes two).
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    held = getattr(user, "_held_permissions", None)
    if held is None:
        rows = (
            Permission.objects.filter(Q(user=user) | Q(group__user=user))
            .values_list("content_type__app_label", "codename")
            .distinct()
        )
        held = user._held_permissions = {f"{app}.{codename}" for app, codename in rows}
    return permission in held


def can_write_clinical(user) -> bool:
    return holds_permission(user, CLINICAL_PERMISSION)


def can_view_audit(user) -> bool:
    return holds_permission(user, "checklists.view_auditevent")


def can_export_responses(user) -> bool:
    """Whether the user may export responses in bulk (their teams' cases only)."""
    return holds_permission(user, EXPORT_PERMISSION)


def can_edit_content(user) -> bool:
    """Content editors (and superusers): draft, submit, send back and retire versions."""
    return holds_permission(user, CONTENT_PERMISSION)


def can_publish_content(user) -> bool:
    """Who may approve a version; the two-person rule itself lives in the service."""
    return holds_permission(user, PUBLISH_PERMISSION)


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


def get_lot_for_user(user, lot_id: int, *, for_edit: bool = False) -> Lot:
    if for_edit and not can_write_clinical(user):
        raise NotClinician()
    lot = (
        Lot.objects.visible_to(user)
        .select_related("product__supplier__team")
        .filter(pk=lot_id)
        .first()
    )
    if lot is None:
        raise Http404("No such lot.")
    return lot


def get_coa_for_user(user, coa_id: int) -> CertificateOfAnalysis:
    coa = (
        CertificateOfAnalysis.objects.visible_to(user)
        .select_related("lot__product__supplier")
        .filter(pk=coa_id)
        .first()
    )
    if coa is None:
        raise Http404("No such certificate.")
    return coa
