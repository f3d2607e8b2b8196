"""The append-only audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditImmutableError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
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
        CONTENT_RETIRE_PROPOSED = "content_retire_proposed", "Retirement proposed"
        COA_REFUSED = "coa_refused", "COA upload refused"

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
