"""Releases of the knowledge data files, and which of them this installation runs.

`load_default_content` loads the knowledge files of `checklists/content/` (knowledge/,
legal/, lab/) straight into the tables only on a new installation. Once an installation
has knowledge, a deploy that brings changed files records them here as a pending release,
and screening keeps using the knowledge it has until an editor with the approve permission
approves the release (authoring/release.py), as for an editor's own proposal: the files
were reviewed where they were written, the editor is the second person. A release is never
edited or deleted: the list is the record of which knowledge ran when, and who let it in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ContentReleaseQuerySet(models.QuerySet):
    def pending(self) -> ContentReleaseQuerySet:
        return self.filter(status=ContentRelease.Status.PENDING)

    def applied(self) -> ContentReleaseQuerySet:
        return self.filter(status=ContentRelease.Status.APPLIED)

    def current(self) -> ContentRelease | None:
        """The release whose files the knowledge tables were last loaded from."""
        return self.applied().order_by("-decided_at", "-pk").first()

    def delete(self):
        raise DecidedReleaseError("Releases are kept: reject a pending one instead.")


class DecidedReleaseError(Exception):
    """Raised on any attempt to delete a release."""


class ContentRelease(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an editor's approval"
        APPLIED = "applied", "Approved and loaded"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a later release before a decision"

    # SHA-256 of the files below, written canonically (authoring/release.py).
    digest = models.CharField(max_length=64, unique=True)
    # Every knowledge file of the release: its path under checklists/content/ -> its data.
    files = models.JSONField()
    # What the release changes against the one running when it was recorded: per file,
    # the keys of the rows added, changed and removed (authoring/release.py, `compare`).
    changes = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    recorded_at = models.DateTimeField(default=timezone.now)
    # Empty for the first load of a new installation (nobody to approve what was not there).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # Rows the loaders added or changed when the release was applied.
    rows_loaded = models.PositiveIntegerField(null=True, blank=True)

    objects = ContentReleaseQuerySet.as_manager()

    class Meta:
        verbose_name = "knowledge release"
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="release_decided_iff_not_pending",
            ),
            # A rejection always names who rejected it and why.
            models.CheckConstraint(
                condition=~Q(status="rejected") | (Q(decided_by__isnull=False) & ~Q(comment="")),
                name="release_rejection_has_reviewer_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"knowledge release {self.digest[:12]} ({self.recorded_at:%Y-%m-%d})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    def change_count(self) -> int:
        """Rows added, changed or removed, over every file."""
        return sum(
            len(part.get(kind, []))
            for part in self.changes.get("files", {}).values()
            for kind in ("added", "changed", "removed")
        )

    def delete(self, *args, **kwargs):
        raise DecidedReleaseError("Releases are kept: reject a pending one instead.")
