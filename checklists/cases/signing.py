"""Writes that sign a checklist, correct a signed one, or send one back for correction.

A signed checklist is read-only for good: a correction is a new draft revision (amend),
which supersedes the signed one only when it is signed in turn.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import mfa, passwords
from accounts.models import signer_identity

from .. import audit
from ..access import ResponseLocked, can_return_for_amendment, can_write_clinical, require
from ..models import (
    Acknowledgement,
    AmendmentRequest,
    Answer,
    AuditEvent,
    ChecklistResponse,
    MedicationEntry,
    PatientCase,
)
from .drafts import claim_draft
from .readmodel import ResponseState, load_state

FOLLOW_UP_ITEM_KEY = "follow_up_date"


class SignRefused(Exception):
    """Signing was refused: required items unanswered (`missing`) or serious cautions
    without an acknowledgement (`unacknowledged`). `field` is None: the reason is about
    the checklist, not about one input. `reason` is what the audit trail records."""

    field: str | None = None

    def __init__(
        self, missing: list, unacknowledged: list | None = None, contradictions: list | None = None
    ):
        self.missing = missing
        self.unacknowledged = unacknowledged or []
        # Answers the medicine list contradicts (issue 16: "No" beside a listed opioid).
        self.contradictions = contradictions or []
        reasons = [c.message for c in self.contradictions]
        if missing:
            reasons.append(f"{len(missing)} required item(s) still need an answer")
        if self.unacknowledged:
            reasons.append(f"{len(self.unacknowledged)} serious caution(s) need an acknowledgement")
        super().__init__("; ".join(reasons) + ".")

    @property
    def reason(self) -> str:
        if self.contradictions:
            return "answer_contradicts_medicines"
        return "missing_answers" if self.missing else "unacknowledged_caution"


class SignerNotConfirmed(SignRefused):
    """The password or the second-factor code did not confirm who is signing; `field`
    names the one refused: "password" or "code"."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.missing, self.unacknowledged, self.contradictions = [], [], []
        Exception.__init__(self, message)

    @property
    def reason(self) -> str:
        return self.field


# --- Signing ----------------------------------------------------------------------------


def sign_response(
    *,
    response: ChecklistResponse,
    user,
    password: str,
    code: str = "",
    attestation: str,
    lock_version: int,
    acknowledgements: dict[str, tuple[str, str]] | None = None,
    ip: str | None = None,
) -> ChecklistResponse:
    """A clinician signs a complete draft (see record_signature), after confirming it is
    them: signing is a legal act.

    Refused (SignerNotConfirmed) unless `password` is the user's and, when they have a
    second factor, `code` is a good code from it. The code is checked last, once all else
    holds: a code is good once, so it is not spent on a signature refused for another
    reason. Not one transaction as a whole on purpose: django-otp's count of wrong codes
    (which slows guessing down) must be committed even when signing is refused, and so
    must the audit event of every refusal (written here, after any rolled-back write).
    Counting a wrong password or code toward the lockout needs the request: the view's.
    """
    require(can_write_clinical(user), "Only clinicians can sign a checklist.")
    try:
        _confirm_password(user, password, ip)
        state = load_state(response)
        acknowledgements = acknowledgements or {}
        _refuse_incomplete(state, acknowledgements)
        if mfa.needs_code_to_sign(user):
            try:
                mfa.verify_code(user, code, form="sign", ip=ip)
            except mfa.CodeRefused as refusal:
                raise SignerNotConfirmed("code", f"{refusal} Nothing was signed.") from None
        return record_signature(
            response=response,
            user=user,
            attestation=attestation,
            lock_version=lock_version,
            acknowledgements=acknowledgements,
            ip=ip,
            state=state,
        )
    except SignRefused as refusal:
        record_refusal(response=response, user=user, reason=refusal.reason, ip=ip)
        raise
    except ResponseLocked:
        record_refusal(response=response, user=user, reason="locked", ip=ip)
        raise


def confirm_password(*, response: ChecklistResponse, user, password: str, ip: str | None) -> None:
    """Raise SignerNotConfirmed unless `password` is the user's: the first check of
    sign_response, also asked on its own by the sign page when the rest of the form is
    refused, so that the next attempt can put everything right at once. A wrong one is a
    refused signing, audited as one."""
    try:
        _confirm_password(user, password, ip)
    except SignerNotConfirmed as refusal:
        record_refusal(response=response, user=user, reason=refusal.reason, ip=ip)
        raise


def _confirm_password(user, password: str, ip: str | None) -> None:
    if not passwords.confirm(user, password, form="sign", ip=ip):
        raise SignerNotConfirmed("password", "That password is not right. Nothing was signed.")


def record_refusal(*, response: ChecklistResponse, user, reason: str, ip: str | None) -> None:
    """Write a refused signing to the audit trail: `reason` is "password", "code",
    "missing_answers", "answer_contradicts_medicines", "unacknowledged_caution" or "locked"
    (no longer a draft). Called
    outside any transaction that is rolled back, so the refusal stays on record."""
    audit.record(
        AuditEvent.Action.SIGN_REFUSED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail={"reason": reason},
    )


@transaction.atomic
def record_signature(
    *,
    response: ChecklistResponse,
    user,
    attestation: str,
    lock_version: int,
    acknowledgements: dict[str, tuple[str, str]] | None = None,
    ip: str | None = None,
    state: ResponseState | None = None,
) -> ChecklistResponse:
    """Sign a complete draft: it becomes read-only for good, with its flags, their
    acknowledgements and the matched medications frozen on it.

    Confirms nothing about the signer: a clinician's signature goes through
    sign_response; only synthetic data (demo seeding, test factories) calls this
    directly. Refused while any required, visible item is unanswered or any
    contraindicated or major flag lacks an acknowledgement. A `state` loaded by the
    caller is safe to reuse: the claim fails if anything was written since the page.
    """
    state = state or load_state(response)
    acknowledgements = acknowledgements or {}
    _refuse_incomplete(state, acknowledgements)
    now = timezone.now()
    claim_draft(
        response,
        lock_version,
        status=ChecklistResponse.Status.SIGNED,
        signed_by=user,
        signed_at=now,
        updated_at=now,
        attestation=attestation,
        signed_as=signer_identity(user),
        flags_snapshot=[flag.as_dict() for flag in state.flags],
    )
    _store_acknowledgements(response, state, acknowledgements, user, now)
    _store_medications(response, state)
    if response.amends_id is not None:
        # The corrected record takes over; the earlier one stays viewable, linked both ways.
        ChecklistResponse.objects.filter(
            pk=response.amends_id, status=ChecklistResponse.Status.SIGNED
        ).update(status=ChecklistResponse.Status.SUPERSEDED)
    follow_up = _as_date(state.answers.get(FOLLOW_UP_ITEM_KEY))
    if follow_up is not None:
        PatientCase.objects.filter(pk=response.case_id).update(
            follow_up_due=follow_up, updated_at=now
        )
    audit.record(
        AuditEvent.Action.CHECKLIST_SIGNED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail={"version": response.version.number, "flags": len(state.flags)},
    )
    return response


def _refuse_incomplete(state: ResponseState, acknowledgements: dict[str, tuple[str, str]]) -> None:
    if state.missing:
        raise SignRefused(state.missing)
    if state.contradictions:
        raise SignRefused([], contradictions=state.contradictions)
    unacknowledged = [
        f for f in state.flags if f.needs_acknowledgement and f.code not in acknowledgements
    ]
    if unacknowledged:
        raise SignRefused([], unacknowledged)


def _store_acknowledgements(
    response: ChecklistResponse,
    state: ResponseState,
    acknowledgements: dict[str, tuple[str, str]],
    user,
    now: datetime.datetime,
) -> None:
    """One row per serious flag acknowledged, with the flag's severity at signing."""
    needing = {f.code: f for f in state.flags if f.needs_acknowledgement}
    Acknowledgement.objects.bulk_create(
        Acknowledgement(
            response=response,
            flag_code=code,
            severity=needing[code].severity,
            reason=reason,
            comment=comment,
            acknowledged_by=user,
            acknowledged_at=now,
        )
        for code, (reason, comment) in acknowledgements.items()
        if code in needing
    )


def _store_medications(response: ChecklistResponse, state: ResponseState) -> None:
    """The medications as typed, each with the substance the screening matched (if any),
    so the signed record keeps what the flags were computed from."""
    rows = state.medication_rows
    MedicationEntry.objects.bulk_create(
        MedicationEntry(
            response=response,
            position=n,
            name_as_typed=row["name"],
            dose=row.get("dose", ""),
            frequency=row.get("frequency", ""),
            matched_substance_id=match.substance.pk if match.substance else None,
            matched_name=match.substance.name if match.substance else "",
        )
        for n, (row, match) in enumerate(
            zip(rows, state.screening_result.matches, strict=True), start=1
        )
    )


def _as_date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


# --- Correcting a signed checklist ------------------------------------------------------


class AmendRefused(Exception):
    """The checklist cannot be amended (not signed, or already being amended)."""


@transaction.atomic
def amend_response(
    *, response: ChecklistResponse, user, reason: str, ip: str | None = None
) -> ChecklistResponse:
    """Start a correction of a signed checklist: a new draft revision on the same version,
    with the previous answers, that supersedes the signed one only when it is signed."""
    require(can_write_clinical(user), "Only clinicians can amend a signed checklist.")
    locked = ChecklistResponse.objects.select_for_update().get(pk=response.pk)
    if locked.status != ChecklistResponse.Status.SIGNED:
        raise AmendRefused("Only the latest signed revision can be amended.")
    if ChecklistResponse.objects.filter(amends=locked).exists():
        raise AmendRefused("An amendment of this checklist is already under way.")
    now = timezone.now()
    try:
        with transaction.atomic():
            draft = ChecklistResponse.objects.create(
                case_id=locked.case_id,
                version_id=locked.version_id,
                revision=locked.revision + 1,
                amends=locked,
                amend_reason=reason,
                started_by=user,
                started_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # Another clinician's amendment got there first (one amendment per revision).
        raise AmendRefused("An amendment of this checklist is already under way.") from None
    Answer.objects.bulk_create(
        Answer(response=draft, item_id=a.item_id, value=a.value, updated_at=now, updated_by=user)
        for a in Answer.objects.filter(response=locked)
    )
    audit.record(
        AuditEvent.Action.CHECKLIST_AMENDED,
        user=user,
        obj=draft,
        case_id=locked.case_id,
        ip=ip,
        detail={"amends": locked.pk, "revision": draft.revision, "reason": reason},
    )
    return draft


@transaction.atomic
def return_for_amendment(
    *, response: ChecklistResponse, user, comment: str, ip: str | None = None
) -> AmendmentRequest:
    """A supervisor sends a signed checklist back to the clinicians with a comment."""
    require(
        can_return_for_amendment(user), "Only supervisors can return a checklist for amendment."
    )
    if response.status != ChecklistResponse.Status.SIGNED:
        raise AmendRefused("Only a signed checklist can be returned for amendment.")
    request = AmendmentRequest.objects.create(response=response, comment=comment, requested_by=user)
    audit.record(
        AuditEvent.Action.CHECKLIST_RETURNED,
        user=user,
        obj=response,
        case_id=response.case_id,
        ip=ip,
        detail={"comment": comment},
    )
    return request
