"""Proposed changes to the knowledge, waiting for a second editor.

Every row of the knowledge tables (sources, substances and their names, interaction and
variability rules, jurisdictions, legal rows, lab limits) reaches clinicians' screening the
moment it is written. So an editor's save in the admin writes none of them: it records a
`KnowledgeChange` with the values proposed and the values they were proposed against, and a
second editor, not the proposer, approves it (which applies it, authoring/proposals.py) or
rejects it. The proposer may withdraw it. A decided proposal is never edited again: it is
the record of who proposed what, why, and who let it through.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class DecidedProposalError(Exception):
    """Raised on any attempt to change or delete a decided proposal."""


class KnowledgeChangeQuerySet(models.QuerySet):
    def pending(self) -> KnowledgeChangeQuerySet:
        return self.filter(status=KnowledgeChange.Status.PROPOSED)

    def for_row(self, model_name: str, object_id) -> KnowledgeChangeQuerySet:
        return self.filter(model_name=model_name, object_id=object_id)

    def update(self, **kwargs):
        if self.exclude(status=KnowledgeChange.Status.PROPOSED).exists():
            raise DecidedProposalError("A decided proposal cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        raise DecidedProposalError("Proposals are kept: withdraw or reject one instead.")


class KnowledgeChange(models.Model):
    class Table(models.TextChoices):
        """The knowledge tables whose rows change only through a proposal."""

        SOURCE = "source", "Source"
        SUBSTANCE = "substance", "Substance and its names"
        INTERACTION_RULE = "interactionrule", "Interaction rule"
        VARIABILITY_RULE = "variabilityrule", "Variability rule"
        JURISDICTION = "jurisdiction", "Jurisdiction"
        LEGAL_STATUS = "legalstatus", "Legal status"
        LAB_LIMIT = "lablimit", "Lab limit"
        PROBLEM = "problem", "Clinical problem"
        COMBINATION_RULE = "combinationrule", "Medicine combination rule"

    class Kind(models.TextChoices):
        ADD = "add", "Add a row"
        CHANGE = "change", "Change a row"
        DELETE = "delete", "Delete a row"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for a second editor"
        APPROVED = "approved", "Approved and applied"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn by the proposer"

    model_name = models.CharField("table", max_length=20, choices=Table.choices)
    # The row changed or deleted; for an added row, set when the approval creates it.
    object_id = models.PositiveBigIntegerField("row id", null=True, blank=True)
    # The row's name when proposed (the list shows it without reading every table).
    row_label = models.CharField("row", max_length=300)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Field values (foreign keys as primary keys, many-to-many as sorted lists of them, a
    # substance's names as a sorted list under "aliases"): authoring/knowledge_values.py.
    proposed = models.JSONField(default=dict, blank=True)
    # The row's values when proposed; approval is refused if the row no longer has them.
    base = models.JSONField(default=dict, blank=True)
    reason = models.TextField(help_text="What changed and why.")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    objects = KnowledgeChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_knowledgechange", "Can approve another editor's knowledge change")]
        indexes = [models.Index(fields=["model_name", "object_id"], name="knowledge_change_row")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="knowledge_change_has_reason"),
            models.CheckConstraint(
                condition=Q(kind="add") | Q(object_id__isnull=False),
                name="knowledge_change_names_its_row",
            ),
            models.CheckConstraint(
                condition=Q(status="proposed", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="proposed") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="knowledge_change_decided_by_someone",
            ),
            # The two-person rule, also in the database: nobody approves or rejects their
            # own proposal, and only the proposer withdraws one.
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "rejected"]) | ~Q(decided_by=F("proposed_by")),
                name="knowledge_change_decided_by_another",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | Q(decided_by=F("proposed_by")),
                name="knowledge_change_withdrawn_by_proposer",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display().lower()}: {self.row_label}"

    def save(self, *args, **kwargs):
        """Refuse any write to a proposal already decided (the move to decided is allowed)."""
        if self.pk is not None:
            stored = KnowledgeChange.objects.filter(pk=self.pk).values_list("status", flat=True)
            if stored.first() not in (None, self.Status.PROPOSED):
                raise DecidedProposalError(f"Proposal {self.pk} is decided; propose again.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DecidedProposalError("Proposals are kept: withdraw or reject one instead.")

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PROPOSED
