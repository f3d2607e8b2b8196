"""The content workflow's writes: draft → in review → published → retired.

Two editors take each step that changes what clinicians start on: one submits a version
and another approves it; one proposes retiring the published version and another confirms.
Each step locks the version row, checks who may take it and from which status, and
records its audit event, all in one transaction. The admin's buttons and actions call
these and nothing else to move a version.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .. import audit
from ..access import can_confirm_retirement, can_edit_content, can_publish_content
from ..models import AuditEvent, ChecklistTemplate, Citation, Item, Section, TemplateVersion
from .files import version_hash
from .validation import validate_version


class WorkflowRefused(Exception):
    """A content-workflow step was refused; `reasons` lists every reason, in words."""

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__(" ".join(reasons))


def next_version_number(template: ChecklistTemplate) -> int:
    """The number a new version of `template` gets: one past its highest so far."""
    return (template.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def _lock_version(version: TemplateVersion) -> TemplateVersion:
    """The version row, re-read and locked for the rest of the transaction."""
    return TemplateVersion.objects.select_for_update().select_related("template").get(pk=version.pk)


def _refuse_unless(condition: bool, reason: str) -> None:
    if not condition:
        raise WorkflowRefused([reason])


def _version_event(action, version: TemplateVersion, user, ip, **detail) -> None:
    audit.record(
        action,
        user=user,
        obj=version,
        ip=ip,
        detail={"template": version.template.slug, "version": version.number, **detail},
    )


@transaction.atomic
def new_draft_from(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """A new draft with a copy of the version's sections, items and citations.

    The copy keeps every item key and option code, so answers carry over between them.
    """
    _refuse_unless(can_edit_content(user), "Only content editors can start a draft.")
    version = _lock_version(version)
    draft = TemplateVersion.objects.create(
        template=version.template,
        number=next_version_number(version.template),
        author=user,
        based_on=version,
    )
    _copy_content(version, draft, user)
    _version_event(
        AuditEvent.Action.CONTENT_DRAFT_CREATED, draft, user, ip, based_on=version.number
    )
    return draft


def _copy_content(version: TemplateVersion, draft: TemplateVersion, user) -> None:
    """Copy the sections, items and citations of `version` into `draft`, with history rows
    by `user` (a fixed number of queries whatever the size of the version)."""
    sections = list(version.sections.order_by("position"))
    copies = bulk_create_with_history(
        [
            Section(version=draft, key=s.key, title=s.title, intro=s.intro, position=s.position)
            for s in sections
        ],
        Section,
        default_user=user,
    )
    section_for = {old.pk: new for old, new in zip(sections, copies, strict=True)}
    items = list(Item.objects.filter(version=version).order_by("pk"))
    copied_fields = [
        f.attname
        for f in Item._meta.concrete_fields
        if f.attname not in {"id", "version_id", "section_id"}
    ]
    item_copies = bulk_create_with_history(
        [
            Item(
                version=draft,
                section=section_for[item.section_id],
                **{name: getattr(item, name) for name in copied_fields},
            )
            for item in items
        ],
        Item,
        default_user=user,
    )
    item_for = {old.pk: new for old, new in zip(items, item_copies, strict=True)}
    citations = Citation.objects.filter(item__version=version).order_by("pk")
    bulk_create_with_history(
        [
            Citation(item=item_for[c.item_id], source_id=c.source_id, locator=c.locator)
            for c in citations
        ],
        Citation,
        default_user=user,
    )


@transaction.atomic
def submit_for_review(
    *, version: TemplateVersion, user, summary: str, ip: str | None = None
) -> TemplateVersion:
    """Draft → in review: its content is locked and its hash stored for the approver.

    `summary` says what changed and why (issue 21): stored as the version's change summary,
    it is what the reviewer reads first, and the audit event and the exported file carry
    it. Refused without one, and with every reason `validate_version` finds, so reviewers
    only see drafts that could be published.
    """
    _refuse_unless(can_edit_content(user), "Only content editors can submit a version.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.DRAFT,
        f"Version {version.number} is {version.get_status_display().lower()}; "
        "only a draft can be submitted for review.",
    )
    summary = (summary or "").strip()
    _refuse_unless(
        bool(summary),
        "Say what changed and why in the change summary: the reviewer reads it first.",
    )
    reasons = validate_version(version)
    if reasons:
        raise WorkflowRefused(reasons)
    version.status = TemplateVersion.Status.IN_REVIEW
    version.submitted_by, version.submitted_at = user, timezone.now()
    version.content_hash = version_hash(version)
    version.change_summary = summary
    # A draft loaded from a file has no author: whoever submits it answers for it.
    version.author = version.author or user
    version._change_reason = f"Submitted for review: {summary}"[:100]
    version.save(
        update_fields=[
            "status",
            "submitted_by",
            "submitted_at",
            "content_hash",
            "author",
            "change_summary",
        ]
    )
    _version_event(
        AuditEvent.Action.CONTENT_SUBMITTED,
        version,
        user,
        ip,
        content_hash=version.content_hash,
        change_summary=summary,
    )
    return version


@transaction.atomic
def return_to_draft(
    *, version: TemplateVersion, user, comment: str, ip: str | None = None
) -> TemplateVersion:
    """In review → draft, so that its content can be changed again. The reviewer's
    `comment` is required: it tells the author what to change (shown on the version page,
    kept in the version's history and the audit event)."""
    _refuse_unless(can_edit_content(user), "Only content editors can send a version back.")
    comment = (comment or "").strip()
    _refuse_unless(bool(comment), "Say what the author should change before sending it back.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.IN_REVIEW,
        f"Version {version.number} is not in review.",
    )
    version.status = TemplateVersion.Status.DRAFT
    version.submitted_by = version.submitted_at = None
    version._change_reason = f"Sent back: {comment}"[:100]
    version.save(update_fields=["status", "submitted_by", "submitted_at"])
    _version_event(AuditEvent.Action.CONTENT_RETURNED, version, user, ip, comment=comment)
    return version


@transaction.atomic
def approve_and_publish(
    *,
    version: TemplateVersion,
    user,
    reviewed: bool,
    comment: str = "",
    ip: str | None = None,
    on: datetime.date | None = None,
) -> TemplateVersion:
    """In review → published, approved by a second editor; the previous published version
    of the template is retired in the same transaction.

    Deliberate (issue 21): `reviewed` is the approver's statement, ticked on the approval
    page beside the diff and the summary, that they reviewed each change; without it the
    approval is refused. The optional `comment` goes to the history and the audit event.
    Also refused when the user is not an editor, wrote or changed the version (its author,
    its submitter or anyone in its rows' history), when its content changed since it was
    submitted, or with every reason `validate_version` finds.
    """
    _refuse_unless(
        can_publish_content(user), "Only content editors with the publish permission can approve."
    )
    _refuse_unless(
        reviewed is True,
        "Tick “I reviewed each change” on the approval page: approving publishes it to "
        "every new checklist.",
    )
    version = _lock_version(version)
    digest = _refuse_unapprovable(version, user, on)
    now = timezone.now()
    previous = _retire_published(version, now)
    comment = (comment or "").strip()
    version.status = TemplateVersion.Status.PUBLISHED
    version.approver, version.published_at = user, now
    version._change_reason = (f"Approved: {comment}" if comment else "Approved")[:100]
    version.save(update_fields=["status", "approver", "published_at"])
    _version_event(
        AuditEvent.Action.CONTENT_PUBLISHED,
        version,
        user,
        ip,
        content_hash=digest,
        author=version.author.get_username() if version.author else "",
        retired_version=previous.number if previous else None,
        change_summary=version.change_summary,
        reviewed_each_change=True,
        comment=comment,
    )
    return version


def _refuse_unapprovable(version: TemplateVersion, user, on: datetime.date | None) -> str:
    """Raise WorkflowRefused unless `user` may approve the locked `version` now; returns
    its content hash."""
    _refuse_unless(
        version.status == TemplateVersion.Status.IN_REVIEW,
        f"Version {version.number} is {version.get_status_display().lower()}; "
        "only a version in review can be approved.",
    )
    _refuse_unless(
        user.pk not in version.contributor_ids(),
        "You wrote or changed this version, so you cannot approve it: a second editor "
        "who did not work on it must approve.",
    )
    reasons = validate_version(version, on=on)
    digest = version_hash(version)
    if digest != version.content_hash:
        reasons.append("Its content changed after it was submitted; submit it again.")
    if reasons:
        raise WorkflowRefused(reasons)
    return digest


def _retire_published(version: TemplateVersion, now: datetime.datetime) -> TemplateVersion | None:
    """Retire the template's published version (locked first), if there is one."""
    previous = (
        TemplateVersion.objects.select_for_update()
        .filter(template_id=version.template_id, status=TemplateVersion.Status.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.status, previous.retired_at = TemplateVersion.Status.RETIRED, now
        previous.save(update_fields=["status", "retired_at"])
    return previous


@transaction.atomic
def retire_version(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """Propose retiring a published version; a second editor confirms it
    (`confirm_retirement`), until then it stays published.

    A template has one published version at most (the database says so), so retiring it
    always leaves the template's new checklists without a version, which is what a single
    editor must not do alone. Replacing it is one step for whoever approves the newer
    version (`approve_and_publish` retires the old one), already the work of two people."""
    _refuse_unless(can_edit_content(user), "Only content editors can retire a version.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.PUBLISHED,
        f"Version {version.number} is not published.",
    )
    _refuse_unless(
        version.retire_proposed_by_id is None,
        f"Retiring version {version.number} is already proposed; a second editor confirms it.",
    )
    version.retire_proposed_by, version.retire_proposed_at = user, timezone.now()
    version.save(update_fields=["retire_proposed_by", "retire_proposed_at"])
    _version_event(AuditEvent.Action.CONTENT_RETIRE_PROPOSED, version, user, ip)
    return version


@transaction.atomic
def confirm_retirement(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """Published → retired, confirmed by an editor with the publish permission other than
    the proposer. Checklists already answered on it keep it; new ones cannot start until
    another version is published."""
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.PUBLISHED
        and version.retire_proposed_by_id is not None,
        f"Retiring version {version.number} has not been proposed.",
    )
    _refuse_unless(
        version.retire_proposed_by_id != user.pk,
        "You proposed retiring this version, so you cannot confirm it: a second editor must.",
    )
    _refuse_unless(
        can_confirm_retirement(user, version),
        "Only content editors with the publish permission can confirm a retirement.",
    )
    version.status, version.retired_at = TemplateVersion.Status.RETIRED, timezone.now()
    version.save(update_fields=["status", "retired_at"])
    _version_event(
        AuditEvent.Action.CONTENT_RETIRED,
        version,
        user,
        ip,
        proposed_by=version.retire_proposed_by.get_username(),
        confirmed_by=user.get_username(),
    )
    return version


@transaction.atomic
def cancel_retirement(*, version: TemplateVersion, user, ip: str | None = None) -> TemplateVersion:
    """Take back a proposed retirement (any content editor: it keeps the version in use)."""
    _refuse_unless(can_edit_content(user), "Only content editors can cancel a retirement.")
    version = _lock_version(version)
    _refuse_unless(
        version.status == TemplateVersion.Status.PUBLISHED
        and version.retire_proposed_by_id is not None,
        f"Retiring version {version.number} has not been proposed.",
    )
    proposer = version.retire_proposed_by.get_username()
    version.retire_proposed_by = version.retire_proposed_at = None
    version.save(update_fields=["retire_proposed_by", "retire_proposed_at"])
    _version_event(
        AuditEvent.Action.CONTENT_RETIRE_CANCELLED,
        version,
        user,
        ip,
        proposed_by=proposer,
    )
    return version


REVIEW_ACTIONS = (
    AuditEvent.Action.CONTENT_SUBMITTED,
    AuditEvent.Action.CONTENT_RETURNED,
    AuditEvent.Action.CONTENT_PUBLISHED,
)


def review_history(version: TemplateVersion) -> list[AuditEvent]:
    """The version's submissions, send-backs and approval with their summary or comment,
    oldest first (one query): the version page shows them, so an author reads why it came
    back."""
    return list(
        AuditEvent.objects.filter(
            object_type="templateversion", object_id=str(version.pk), action__in=REVIEW_ACTIONS
        ).order_by("at", "pk")
    )
