"""The reference-data stamp: one row whose token changes whenever reference data changes.

Reference data is what every checklist page reads and editors rarely change: the sources,
substances and their names, interaction and variability rules, the legal table and the lab
limits. Each process keeps it in memory (`checklists/refdata.py`) and, on every use, compares
its token with this row's, so an editor's change is seen by every process, on every machine,
on its next request. The token is random rather than a counter so that a rolled-back
transaction (or test) can never bring back a token that named other data.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

STAMP_ID = 1


def new_token() -> str:
    return uuid.uuid4().hex


class ReferenceDataStamp(models.Model):
    token = models.CharField(max_length=32, default=new_token)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_stamp_row")]

    def __str__(self) -> str:
        return f"reference data {self.token} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


def mark_reference_data_changed() -> None:
    """Give the reference data a new token, in the caller's transaction, so it commits (or
    rolls back) with the change it announces."""
    values = {"token": new_token(), "changed_at": timezone.now()}
    if not ReferenceDataStamp.objects.filter(pk=STAMP_ID).update(**values):
        # The row is missing (a flushed test database): recreate it.
        ReferenceDataStamp.objects.update_or_create(pk=STAMP_ID, defaults=values)


class ReferenceDataQuerySet(models.QuerySet):
    """Bulk writes send no model signals, so they announce the change themselves."""

    def update(self, **kwargs):
        changed = super().update(**kwargs)
        if changed:
            mark_reference_data_changed()
        return changed

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            mark_reference_data_changed()
        return created

    def bulk_update(self, objs, *args, **kwargs):
        changed = super().bulk_update(objs, *args, **kwargs)
        if changed:
            mark_reference_data_changed()
        return changed
