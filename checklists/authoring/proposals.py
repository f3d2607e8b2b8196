"""The knowledge's two-person rule: propose, approve (which applies), reject, withdraw.

The knowledge tables reach every clinician's screening at their next request, so no editor
changes them alone: the admin records a proposal (`propose_change`) and a second editor
with the approve permission, never the proposer, approves it. Approval re-reads the row
under a lock, refuses if it no longer holds the values the proposal was made against, and
writes it in the same transaction as the decision and its audit event; the reference-data
stamp changes with it (refdata.py), so the next screening uses it. Each step records its
audit event. The deploy's data files reach the tables through releases (release.py): directly
on a new installation, otherwise once an editor approves them.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from .. import audit
from ..access import can_approve_knowledge, can_propose_knowledge, can_withdraw_knowledge
from ..models import AuditEvent, KnowledgeChange, LegalStatus
from .knowledge_values import apply_values, changed_fields, model_for, row_values
from .workflow import WorkflowRefused

Kind, Status = KnowledgeChange.Kind, KnowledgeChange.Status


def _refuse_unless(condition: bool, reason: str) -> None:
    if not condition:
        raise WorkflowRefused([reason])


def _event(action, change: KnowledgeChange, user, ip, **detail) -> None:
    audit.record(
        action,
        user=user,
        obj=change,
        ip=ip,
        detail={
            "model": change.model_name,
            "row": change.object_id,
            "kind": change.kind,
            "label": change.row_label,
            "fields": changed_fields(change.base, change.proposed),
            "proposed_by": change.proposed_by.get_username(),
            **detail,
        },
    )


@transaction.atomic
def propose_change(
    *, user, row, kind: str, proposed: dict, reason: str, ip: str | None = None
) -> KnowledgeChange:
    """Record a proposal to add `row` (unsaved), change it or delete it; the row is not
    written. `proposed` holds the values (knowledge_values.form_values); a change that
    changes nothing is refused."""
    _refuse_unless(can_propose_knowledge(user), "Only content editors can propose changes.")
    reason = (reason or "").strip()
    _refuse_unless(bool(reason), "Say what changed and why: the second editor reads it.")
    model_name = row._meta.model_name
    base, label = {}, str(row)
    if kind != Kind.ADD:
        stored = type(row).objects.filter(pk=row.pk).first()
        _refuse_unless(stored is not None, "This row no longer exists.")
        base, label = row_values(stored), str(stored)
    if kind == Kind.DELETE:
        proposed = {}
    _refuse_unless(
        kind != Kind.CHANGE or proposed != base, "Nothing changed: there is nothing to propose."
    )
    change = KnowledgeChange.objects.create(
        model_name=model_name,
        object_id=row.pk if kind != Kind.ADD else None,
        row_label=label[:300],
        kind=kind,
        proposed=proposed,
        base=base,
        reason=reason,
        proposed_by=user,
    )
    # The reason is the knowledge change's summary (issue 21): the trail keeps it too.
    _event(AuditEvent.Action.KNOWLEDGE_PROPOSED, change, user, ip, reason=reason)
    return change


# A re-verified row is due for review again this long after the check (the data files'
# rule for settled statutes; README of content/legal).
REVERIFIED_REVIEW_DAYS = 180


def propose_reverification(
    *,
    user,
    row: LegalStatus,
    sources: list,
    checked_on: datetime.date,
    note: str,
    ip: str | None = None,
) -> KnowledgeChange:
    """Propose that a legal row still says what the law says: its sources, the day they
    were read and what they say. Like any knowledge change it is applied only when a
    second editor approves it, so the row's verification date (which decides whether
    screening asks the clinician's own check) never moves on one person's word.

    Refused: no source, no note, a date in the future or before the row's current check."""
    _refuse_unless(can_propose_knowledge(user), "Only content editors can propose changes.")
    note = (note or "").strip()
    _refuse_unless(bool(sources), "Name the source you read (a statute, rule or regulator).")
    _refuse_unless(bool(note), "Say what the source says, in your own words.")
    _refuse_unless(checked_on <= timezone.localdate(), "The date checked cannot be in the future.")
    stored = LegalStatus.objects.filter(pk=row.pk).first()
    _refuse_unless(stored is not None, "This row no longer exists.")
    _refuse_unless(
        checked_on >= stored.verified_on,
        f"The row was already verified on {stored.verified_on.isoformat()}; a re-verification "
        "cannot be older than that.",
    )
    keys = ", ".join(sorted(s.key for s in sources))
    proposed = {
        **row_values(stored),
        "sources": sorted(s.pk for s in sources),
        "verified_on": checked_on.isoformat(),
        "verified_by": f"Re-verified against {keys}; checked {checked_on.isoformat()}"[:120],
        "verification_note": note,
        "reviewed_on": checked_on.isoformat(),
        "review_by": (checked_on + datetime.timedelta(days=REVERIFIED_REVIEW_DAYS)).isoformat(),
    }
    return propose_change(
        user=user,
        row=stored,
        kind=Kind.CHANGE,
        proposed=proposed,
        reason=f"Re-verified on {checked_on.isoformat()} against {keys}: {note}",
        ip=ip,
    )


def _lock(change: KnowledgeChange) -> KnowledgeChange:
    change = (
        KnowledgeChange.objects.select_for_update().select_related("proposed_by").get(pk=change.pk)
    )
    _refuse_unless(
        change.is_pending,
        f"This proposal is already decided ({change.get_status_display().lower()}).",
    )
    return change


def _decide(change: KnowledgeChange, user, status: str, comment: str, fields=()) -> None:
    change.status, change.decided_by, change.decided_at = status, user, timezone.now()
    change.comment = (comment or "").strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "comment", *fields])


@transaction.atomic
def approve_change(
    *, change: KnowledgeChange, user, comment: str = "", ip: str | None = None
) -> KnowledgeChange:
    """Apply a proposal, approved by a second editor: the row is written as proposed (or
    deleted) in this transaction, with the proposer as its history's author.

    Refused when the user proposed it or lacks the approve permission, when it is decided
    already, when the row changed or went since it was proposed, or with every reason
    Django's validation gives (a code taken meanwhile, a name another substance has)."""
    change = _lock(change)
    _refuse_unless(
        change.proposed_by_id != user.pk,
        "You proposed this change, so you cannot approve it: a second editor must.",
    )
    _refuse_unless(
        can_approve_knowledge(user, change),
        "Only content editors with the approve permission can approve knowledge changes.",
    )
    row = _apply(change, user)
    change.object_id = change.object_id or row.pk
    _decide(change, user, Status.APPROVED, comment, fields=["object_id"])
    _event(AuditEvent.Action.KNOWLEDGE_APPROVED, change, user, ip, approved_by=user.get_username())
    return change


def _apply(change: KnowledgeChange, approver):
    """Write the proposal to its row; WorkflowRefused (nothing written) when it cannot be."""
    model = model_for(change.model_name)
    if change.kind == Kind.ADD:
        row = model()
    else:
        row = model.objects.select_for_update().filter(pk=change.object_id).first()
        _refuse_unless(row is not None, "The row was deleted after this change was proposed.")
        _refuse_unless(
            row_values(row) == change.base,
            "The row changed after this was proposed (another change to it was approved): "
            "reject this one and propose again from what the row holds now.",
        )
    row._history_user = change.proposed_by
    row._change_reason = f"Knowledge change {change.pk}, approved by {approver}"[:100]
    if change.kind == Kind.DELETE:
        try:
            row.delete()
        except ProtectedError as error:
            users = sorted({str(obj) for obj in error.protected_objects})[:5]
            raise WorkflowRefused([f"It is still used by: {'; '.join(users)}."]) from None
        return row
    reasons = apply_values(row, change.proposed)
    if reasons:
        raise WorkflowRefused(reasons)
    return row


@transaction.atomic
def reject_change(
    *, change: KnowledgeChange, user, comment: str, ip: str | None = None
) -> KnowledgeChange:
    """Close a proposal unapplied, with the reason for the proposer (required)."""
    change = _lock(change)
    _refuse_unless(
        can_approve_knowledge(user, change),
        "Only a second editor with the approve permission can reject a change; "
        "the proposer withdraws it instead.",
    )
    _refuse_unless(bool((comment or "").strip()), "Say why it is rejected.")
    _decide(change, user, Status.REJECTED, comment)
    _event(AuditEvent.Action.KNOWLEDGE_REJECTED, change, user, ip, rejected_by=user.get_username())
    return change


@transaction.atomic
def withdraw_change(
    *, change: KnowledgeChange, user, comment: str = "", ip: str | None = None
) -> KnowledgeChange:
    """The proposer takes their own proposal back."""
    change = _lock(change)
    _refuse_unless(
        can_withdraw_knowledge(user, change), "Only the editor who proposed it can withdraw it."
    )
    _decide(change, user, Status.WITHDRAWN, comment)
    _event(AuditEvent.Action.KNOWLEDGE_WITHDRAWN, change, user, ip)
    return change


SERVICES = {"approve": approve_change, "reject": reject_change, "withdraw": withdraw_change}
