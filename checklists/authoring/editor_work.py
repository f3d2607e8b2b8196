"""What a content editor has to do, for their landing page (issue 21): their drafts, the
versions and knowledge changes waiting for them as second editor, and what is overdue.

Reads only, in a fixed number of queries (one per list, one per reviewed table)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ..access import can_approve_knowledge, can_publish_content
from ..models import KnowledgeChange, TemplateVersion
from .validation import REVIEWED_CONTENT

# A review waiting longer than this is listed as overdue: two people must act on every
# change, and a change nobody reviews never reaches the clinicians.
REVIEW_DUE_DAYS = 7


@dataclass
class EditorWork:
    drafts: list[TemplateVersion] = field(default_factory=list)
    versions_to_review: list[TemplateVersion] = field(default_factory=list)
    changes_to_review: list[KnowledgeChange] = field(default_factory=list)
    overdue_reviews: list = field(default_factory=list)  # versions and changes, oldest first
    content_past_review_by: int = 0

    @property
    def waiting_count(self) -> int:
        return len(self.versions_to_review) + len(self.changes_to_review)


def editor_work(user, today: datetime.date) -> EditorWork:
    """`user`'s drafts; what waits for their review (they neither wrote nor submitted it,
    the approval page checks the rest of the two-person rule); reviews waiting more than
    REVIEW_DUE_DAYS; and how many content rows are past their review-by date."""
    due = datetime.datetime.combine(
        today - datetime.timedelta(days=REVIEW_DUE_DAYS), datetime.time.min, tzinfo=datetime.UTC
    )
    work = EditorWork()
    work.drafts = list(
        TemplateVersion.objects.filter(status=TemplateVersion.Status.DRAFT, author=user)
        .select_related("template")
        .order_by("-created_at")
    )
    # Only what the user may take (access.py: the publish and approve permissions; the
    # author, submitter and proposer are left out here, in the query, rather than by asking
    # can_approve_version per row, whose full list of contributors reads each one's history).
    work.versions_to_review = (
        list(
            TemplateVersion.objects.filter(status=TemplateVersion.Status.IN_REVIEW)
            .exclude(author=user)
            .exclude(submitted_by=user)
            .select_related("template", "submitted_by")
            .order_by("submitted_at")
        )
        if can_publish_content(user)
        else []
    )
    work.changes_to_review = (
        list(
            KnowledgeChange.objects.pending()
            .exclude(proposed_by=user)
            .select_related("proposed_by")
            .order_by("proposed_at")
        )
        if can_approve_knowledge(user)
        else []
    )
    work.overdue_reviews = [
        *[v for v in work.versions_to_review if v.submitted_at and v.submitted_at < due],
        *[c for c in work.changes_to_review if c.proposed_at < due],
    ]
    for entry in REVIEWED_CONTENT:
        rows = entry.overdue(today)
        if rows is not None:
            work.content_past_review_by += rows.count()
    return work
