"""Who may see and do what: the one home of every access rule.

Two kinds of rule live here and nowhere else:

- Guarded lookups (`get_case_for_user`, `get_response_for_user`, `get_lot_for_user`,
  `get_coa_for_user`). Every view that touches a case, a response, a lot or a certificate
  gets it from one of them. An object the user may not see is a 404 (never a 403), so its
  existence is not disclosed.
- Predicates ("may this user start a checklist on this case?"). Views use them to refuse,
  write functions to refuse again, the admin to decide what it offers, and templates (through
  the `allowed` tag) to offer only the buttons their user may press. A refusal is raised as
  `Refused` with a sentence for the person, rendered by `refusals.py`.

Permissions are Django's own (`user.has_perm`, which caches a user's permissions on the
user object for the request); roles are groups that hold them (`roles.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404

from accounts import mfa

from .models import (
    AuditEvent,
    CertificateOfAnalysis,
    ChecklistResponse,
    KnowledgeChange,
    Lot,
    PatientCase,
    Team,
    TemplateVersion,
)

CLINICAL_PERMISSION = "checklists.change_checklistresponse"
RETURN_PERMISSION = "checklists.return_checklistresponse"
EXPORT_PERMISSION = "checklists.export_responses"
AUDIT_PERMISSION = "checklists.view_auditevent"
CONTENT_PERMISSION = "checklists.change_templateversion"
PUBLISH_PERMISSION = "checklists.publish_templateversion"
PROPOSE_KNOWLEDGE_PERMISSION = "checklists.add_knowledgechange"
APPROVE_KNOWLEDGE_PERMISSION = "checklists.approve_knowledgechange"


class Refused(PermissionDenied):
    """The user may see the object but not do this to it: a 403 with the reason."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotClinician(Refused):
    """The user may see the case but not write clinical data."""

    def __init__(self, message: str = "Only clinicians can change cases and checklists."):
        super().__init__(message)


class ResponseLocked(Exception):
    """A write was attempted on a response that is no longer a draft (a 409)."""

    def __init__(self, response: ChecklistResponse):
        self.response = response
        super().__init__(
            f"This checklist is {response.get_status_display().lower()} and can no longer be "
            "changed. To correct it, amend it: a new revision keeps this one intact."
        )


# --- Predicates ------------------------------------------------------------------------


def _holds(user, permission: str) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(permission))


def teams_for_user(user):
    return Team.objects.filter(members=user) if user.is_authenticated else Team.objects.none()


def can_write_clinical(user) -> bool:
    """Clinicians: create and change cases, answer, sign and amend checklists."""
    return _holds(user, CLINICAL_PERMISSION)


def can_edit_case(user, case: PatientCase | None = None) -> bool:
    """Change a visible case's details (the case came through the guarded lookup)."""
    return can_write_clinical(user)


def can_start_checklist(user, case: PatientCase | None = None) -> bool:
    return can_write_clinical(user)


def can_edit_response(user, response: ChecklistResponse) -> bool:
    """Answer sections of a draft; signing needs the same."""
    return response.is_draft and can_write_clinical(user)


def can_sign(user, response: ChecklistResponse) -> bool:
    return can_edit_response(user, response)


def can_restart(user, response: ChecklistResponse) -> bool:
    """Move a draft answered on an older version onto the published one."""
    return response.on_old_version and can_edit_response(user, response)


def can_amend(user, response: ChecklistResponse) -> bool:
    """Correct a signed checklist through a new revision."""
    return response.status == ChecklistResponse.Status.SIGNED and can_write_clinical(user)


def can_return_for_amendment(user, response: ChecklistResponse | None = None) -> bool:
    """Supervisors send a signed checklist back to the clinicians with a comment."""
    signed = response is None or response.status == ChecklistResponse.Status.SIGNED
    return signed and _holds(user, RETURN_PERMISSION)


def can_add_lot(user, lot: Lot | None = None) -> bool:
    """Record a product lot, or a certificate for one, for the user's team."""
    return can_write_clinical(user)


def can_upload_certificate(user) -> bool:
    """Send a request body as large as a certificate PDF (uploads.py): a clinician past the
    second factor; anyone else is held to the common cap before the body is read."""
    return can_add_lot(user) and mfa.pending_step(user) is None


def can_export_responses(user) -> bool:
    """Export responses in bulk (their teams' cases only)."""
    return _holds(user, EXPORT_PERMISSION)


def can_view_dashboard(user) -> bool:
    """The team dashboard (counts, no answers): who may export every response of their
    teams (supervisors, auditors) may see their sum."""
    return can_export_responses(user)


def can_view_audit(user) -> bool:
    """Open the audit trail; which events it then lists is `AuditEvent.objects.visible_to`
    (their teams' events, README "Who sees which audit events")."""
    return _holds(user, AUDIT_PERMISSION)


def can_read_event_text(user, event: AuditEvent) -> bool:
    """Read the free text of an event (an amendment's reason, a return's comment, which can
    hold patient details): only who may see its case. Events listed through
    `AuditEvent.objects.visible_to(user)` carry the answer (`case_seen`); asked of any
    other event, the case is looked up."""
    if event.case_id is None:
        return True
    seen = getattr(event, "case_seen", None)
    if seen is None:
        seen = PatientCase.objects.visible_to(user).filter(pk=event.case_id).exists()
    return bool(seen)


def can_edit_content(user) -> bool:
    """Content editors (and superusers): draft, submit, send back and retire versions."""
    return _holds(user, CONTENT_PERMISSION)


def can_publish_content(user) -> bool:
    """Who may approve a version at all (the publish permission)."""
    return _holds(user, PUBLISH_PERMISSION)


def can_approve_version(user, version: TemplateVersion) -> bool:
    """The two-person rule: an editor with the publish permission who neither wrote nor
    changed the version (its author, its submitter, anyone in its rows' history)."""
    return can_publish_content(user) and user.pk not in version.contributor_ids()


def can_confirm_retirement(user, version: TemplateVersion) -> bool:
    """Retiring a template's published version leaves its new checklists without one: an
    editor with the publish permission other than the one who proposed it confirms it."""
    proposer = version.retire_proposed_by_id
    return proposer is not None and proposer != user.pk and can_publish_content(user)


def can_take_workflow_step(user, step: str, version: TemplateVersion) -> bool:
    """A step of a version's workflow (submit, approve, return, retire, confirm-retire,
    cancel-retire, new-draft): approving and confirming a retirement take a second editor,
    every other step any content editor."""
    if step == "approve":
        return can_approve_version(user, version)
    if step == "confirm-retire":
        return can_confirm_retirement(user, version)
    return can_edit_content(user)


def can_propose_knowledge(user) -> bool:
    """Content editors propose changes to the knowledge tables (the admin's save does it)."""
    return _holds(user, PROPOSE_KNOWLEDGE_PERMISSION)


def can_approve_knowledge(user, change: KnowledgeChange | None = None) -> bool:
    """The knowledge's two-person rule: an editor with the approve permission who did not
    propose the change (also whoever may reject it). Without a change: may approve any."""
    if not _holds(user, APPROVE_KNOWLEDGE_PERMISSION):
        return False
    return change is None or (change.is_pending and change.proposed_by_id != user.pk)


def can_withdraw_knowledge(user, change: KnowledgeChange) -> bool:
    """Only its proposer takes a pending proposal back."""
    return change.is_pending and user.is_authenticated and change.proposed_by_id == user.pk


def can_decide_knowledge(user, step: str, change: KnowledgeChange) -> bool:
    """A step on a proposal (approve, reject, withdraw), for the review page's buttons."""
    if step == "withdraw":
        return can_withdraw_knowledge(user, change)
    return can_approve_knowledge(user, change)


def can_decide_release(user, release) -> bool:
    """A pending knowledge release (authoring/release.py) is approved or rejected by an
    editor with the approve permission: the developers who wrote its files were the first
    person, so any such editor is the second."""
    return release.is_pending and can_approve_knowledge(user)


def can_open_admin(user) -> bool:
    """Django's admin lets in active staff (AdminSite.has_permission); the navigation asks
    the same, so nobody is offered a link to a login page they cannot pass."""
    return bool(user and user.is_active and user.is_staff)


# What templates may ask through `{% allowed "action" object as name %}`.
ACTIONS: dict[str, Callable[..., bool]] = {
    "create_case": lambda user, obj: can_write_clinical(user),
    "open_admin": lambda user, obj: can_open_admin(user),
    "edit_case": can_edit_case,
    "start_checklist": can_start_checklist,
    "edit_response": can_edit_response,
    "sign": can_sign,
    "restart": can_restart,
    "amend": can_amend,
    "return": can_return_for_amendment,
    "add_lot": can_add_lot,
    "view_audit": lambda user, obj: can_view_audit(user),
    "view_dashboard": lambda user, obj: can_view_dashboard(user),
    "edit_content": lambda user, obj: can_edit_content(user),
    "propose_knowledge": lambda user, obj: can_propose_knowledge(user),
    "approve_knowledge": can_approve_knowledge,
}


def allowed(user, action: str, obj=None) -> bool:
    """Whether `user` may do `action` (a key of ACTIONS) to `obj`."""
    return ACTIONS[action](user, obj)


def require(condition: bool, message: str) -> None:
    """Refuse with a 403 and this sentence unless the condition holds."""
    if not condition:
        raise Refused(message)


# --- Guarded lookups ---------------------------------------------------------------------


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
    notice. `for_edit`: refused unless the user may write clinical data (403) and the
    response is still a draft (409)."""
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
    lot = (
        Lot.objects.visible_to(user)
        .select_related("product__supplier__team")
        .filter(pk=lot_id)
        .first()
    )
    if lot is None:
        raise Http404("No such lot.")
    if for_edit and not can_add_lot(user, lot):
        raise NotClinician("Only clinicians can record lots and certificates.")
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
