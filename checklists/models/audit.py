"""The append-only audit trail."""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import BooleanField, CharField, ExpressionWrapper, Q, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone


class AuditImmutableError(Exception):
    """Raised on any attempt to change or delete an audit event."""


def _as_text(queryset) -> models.QuerySet:
    """The primary keys of `queryset` as text, to compare with `AuditEvent.object_id`."""
    return queryset.annotate(key=Cast("pk", output_field=CharField())).values("key")


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> AuditEventQuerySet:
        """The events `user` may read in the trail (checklists/README.md, "Who sees which
        audit events"); the audit page, its CSV export and the admin's list read only these.

        - An event about a case: only when the case is one of the user's teams' cases.
        - An event about no case: when it concerns one of the user's teams (its actor or its
          subject, a user or a team, is on one of them; a failed sign-in by the name tried),
          when it is about content or knowledge (no patient, no team), or when it concerns
          no team at all (a name that is no one's, people on no team).

        So a user on no team sees none of the clinical trail. Each row carries `case_seen`
        (whether the user may see its case), which `access.can_read_event_text` reads.
        """
        if not user.is_authenticated:
            return self.none()
        from .cases import PatientCase, Team

        people = get_user_model().objects
        teams = Team.objects.filter(members=user)
        cases = PatientCase.objects.visible_to(user).values("pk")
        mine = people.filter(teams__in=teams.values("pk")).distinct()
        anyones = people.filter(teams__isnull=False).distinct()
        about_case = Q(case_id__in=cases)
        found = self.alias(
            # A failed sign-in has no user, only the name tried; "" matches no one.
            tried=Coalesce(KT("detail__username"), Value(""), output_field=CharField()),
        ).annotate(case_seen=ExpressionWrapper(about_case, output_field=BooleanField()))
        concerns_mine = _concerns(mine) | Q(object_type="team", object_id__in=_as_text(teams))
        concerns_a_team = _concerns(anyones) | Q(object_type="team")
        return found.filter(
            about_case
            | Q(case_id__isnull=True)
            & (Q(action__in=SITE_WIDE_ACTIONS) | concerns_mine | ~concerns_a_team)
        )

    def matching(self, filters: dict) -> AuditEventQuerySet:
        """Events matching the audit page's filters (user, case, action, from, to)."""
        found = self
        if "user" in filters:
            found = found.filter(username__iexact=filters["user"])
        if "case" in filters:
            found = found.filter(case_id=filters["case"])
        if "action" in filters:
            found = found.filter(action=filters["action"])
        if "date_from" in filters:
            found = found.filter(at__date__gte=filters["date_from"])
        if "date_to" in filters:
            found = found.filter(at__date__lte=filters["date_to"])
        return found

    def in_trail(self) -> AuditEventQuerySet:
        """The events the trail shows: all but those a later event supersedes (the earlier
        saves of a folded window, audit.record_section_save)."""
        return self.filter(superseded_by__isnull=True)

    def update(self, **kwargs):
        raise AuditImmutableError("Audit events cannot be changed.")

    def delete(self):
        raise AuditImmutableError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """Who did what to which object and case, when (UTC) and from where.

    Rows are only ever inserted; the app refuses updates and deletes, and the README
    gives the PostgreSQL grant that makes the table insert-only for the app's role.
    """

    class Action(models.TextChoices):
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logged out"
        CASE_CREATED = "case_created", "Case created"
        CASE_VIEWED = "case_viewed", "Case viewed"
        CASE_CHANGED = "case_changed", "Case changed"
        CHECKLIST_STARTED = "checklist_started", "Checklist started"
        CHECKLIST_VIEWED = "checklist_viewed", "Checklist viewed"
        SECTION_SAVED = "section_saved", "Section saved"
        CHECKLIST_SIGNED = "checklist_signed", "Checklist signed"
        CHECKLIST_AMENDED = "checklist_amended", "Amendment started"
        CHECKLIST_RETURNED = "checklist_returned", "Returned for amendment"
        SAVE_CONFLICT = "save_conflict", "Save refused: changed by someone else"
        LOCKOUT = "lockout", "Account locked out"
        GROUPS_CHANGED = "groups_changed", "User's groups changed"
        PERMISSIONS_CHANGED = "permissions_changed", "Permissions changed"
        AUDIT_VIEWED = "audit_viewed", "Audit trail viewed"
        AUDIT_EXPORTED = "audit_exported", "Audit trail exported"
        SIGN_REFUSED = "sign_refused", "Signing refused"
        CONTENT_LOADED = "content_loaded", "Content loaded"
        LOT_CREATED = "lot_created", "Product lot recorded"
        COA_UPLOADED = "coa_uploaded", "COA uploaded"
        COA_DOWNLOADED = "coa_downloaded", "COA downloaded"
        EXPORT_TEXT_NOTE = "export_text_note", "Exported text note"
        EXPORT_PRINT = "export_print", "Opened print view"
        EXPORT_PDF = "export_pdf", "Exported PDF"
        EXPORT_FHIR = "export_fhir", "Exported FHIR bundle"
        EXPORT_CSV = "export_csv", "Exported responses CSV"
        EXPORT_FHIR_NDJSON = "export_fhir_ndjson", "Exported FHIR NDJSON"
        CONTENT_IMPORTED = "content_imported", "Content imported"
        CONTENT_DRAFT_CREATED = "content_draft_created", "Content draft created"
        CONTENT_SUBMITTED = "content_submitted", "Content submitted for review"
        CONTENT_RETURNED = "content_returned", "Content sent back to draft"
        CONTENT_PUBLISHED = "content_published", "Content published"
        CONTENT_RETIRED = "content_retired", "Content retired"
        CHECKLIST_RESTARTED = "checklist_restarted", "Checklist restarted on the current version"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_REFUSED = "password_refused", "Wrong password outside the login form"
        MFA_CODE_REFUSED = "mfa_code_refused", "Wrong second-factor code"
        MFA_ENROLLED = "mfa_enrolled", "Second factor set up or replaced"
        MFA_REMOVED = "mfa_removed", "Second factor removed"
        RECOVERY_CODES_ISSUED = "recovery_codes_issued", "New recovery codes issued"
        RECOVERY_CODE_USED = "recovery_code_used", "Recovery code used"
        TEAM_MEMBERSHIP_CHANGED = "team_membership_changed", "Team membership changed"
        STAFF_STATUS_CHANGED = "staff_status_changed", "Staff or superuser status changed"
        KNOWLEDGE_PROPOSED = "knowledge_proposed", "Knowledge change proposed"
        KNOWLEDGE_APPROVED = "knowledge_approved", "Knowledge change approved"
        KNOWLEDGE_REJECTED = "knowledge_rejected", "Knowledge change rejected"
        KNOWLEDGE_WITHDRAWN = "knowledge_withdrawn", "Knowledge change withdrawn"
        RELEASE_RECORDED = "release_recorded", "Knowledge release waiting for approval"
        RELEASE_APPLIED = "release_applied", "Knowledge release approved and loaded"
        RELEASE_REJECTED = "release_rejected", "Knowledge release rejected"
        CONTENT_RETIRE_PROPOSED = "content_retire_proposed", "Retirement proposed"
        CONTENT_RETIRE_CANCELLED = "content_retire_cancelled", "Retirement cancelled"
        COA_REFUSED = "coa_refused", "COA upload refused"
        PROFILE_CHANGED = "profile_changed", "Name or credentials changed"

    # Keys of `detail` holding what a person typed about a case (an amendment's reason, a
    # return's comment): shown only to those who may see the case (access.py).
    FREE_TEXT_KEYS = frozenset({"reason", "comment"})
    HIDDEN_TEXT = "(hidden: free text about a case you cannot see)"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # A "section saved" event that carries on an open ten-minute window (audit.fold_save)
    # names the window's previous event: the trail shows the latest one, with the count
    # of saves and every item changed; the earlier rows stay, unchanged (never updated).
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditImmutableError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("Audit events cannot be deleted.")

    @staticmethod
    def detail_words(detail: dict) -> str:
        """An event's detail as the audit page reads it: "Section: plan and monitoring;
        Items changed: who to call, follow up date; Saves: 3", never Python dict text."""
        return "; ".join(f"{_label(key)}: {_words(value)}" for key, value in detail.items())

    def detail_shown(self, *, with_text: bool) -> dict:
        """`detail` as a reader sees it: free text replaced unless `with_text`."""
        if with_text:
            return self.detail
        return {
            key: self.HIDDEN_TEXT if key in self.FREE_TEXT_KEYS else value
            for key, value in self.detail.items()
        }


_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
# How a few detail keys read on the audit page; any other key is its name in words.
DETAIL_LABELS = {
    "since": "First save",
    "saves": "Saves",
    "changed": "Items changed",
    "by_admin": "By an administrator",
    "via": "Via",
}


def _words(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value in ("", [], {}):
        return "none"
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict):
        return "(" + "; ".join(f"{_label(k)} {_words(v)}" for k, v in value.items()) + ")"
    text = str(value)
    if _IDENTIFIER.match(text):  # a code (a section or an item key): its words
        return text.replace("_", " ")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None or "T" not in text:
        return text
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _label(key: str) -> str:
    return DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())


def _concerns(people) -> Q:
    """An event about no case done by, or done to, one of `people`."""
    return (
        Q(user__in=people.values("pk"))
        | Q(object_type="user", object_id__in=_as_text(people))
        # (The user test first: the name is read from the JSON only for events without one.)
        | Q(user__isnull=True) & Q(tried__in=people.values("username"))
    )


# About content and knowledge: no patient and no team, so every auditor sees them.
SITE_WIDE_ACTIONS = sorted(
    action
    for action in AuditEvent.Action.values
    if action.startswith(("content_", "knowledge_", "release_"))
)
