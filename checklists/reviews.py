"""Review dates: which content rows are past their review-by date.

Every reviewed table (checklist items, knowledge rules, legal rows, lab limits) has
`reviewed_on` and `review_by` date fields. The overdue page and the publishing gate both
iterate REVIEWED_CONTENT, so a new reviewed table needs one entry here and nothing else.
Tables built elsewhere are named by label; an entry whose model is not installed yet is
skipped (the legal and lab-limit tables arrive with other work), and one whose model
exists without the two date fields fails loudly.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _live_items(queryset: models.QuerySet) -> models.QuerySet:
    # Items of retired versions are history; published, in-review and draft ones are live.
    return queryset.exclude(version__status="retired").select_related("version__template")


@dataclass(frozen=True)
class ReviewedContent:
    """One table with review dates."""

    label: str
    model: str  # "app_label.ModelName"
    # Publishing a checklist version is refused while a row of this table is overdue.
    blocks_publish: bool = False
    # Narrows the rows that count (e.g. items of live versions); receives a queryset.
    scope: Callable[[models.QuerySet], models.QuerySet] | None = None
    # False for tables that other work adds later: skipped until the model exists.
    required: bool = True

    def model_class(self) -> type[models.Model] | None:
        try:
            model = apps.get_model(self.model)
        except LookupError:
            if self.required:
                raise
            return None
        names = {f.name for f in model._meta.get_fields()}
        if not {"reviewed_on", "review_by"} <= names:
            raise ImproperlyConfigured(
                f"{self.model} is listed as reviewed content but lacks reviewed_on / review_by"
            )
        return model

    def overdue(self, on: datetime.date) -> models.QuerySet | None:
        model = self.model_class()
        if model is None:
            return None
        rows = model._default_manager.filter(review_by__lt=on)
        if self.scope is not None:
            rows = self.scope(rows)
        return rows.order_by("review_by", "pk")


REVIEWED_CONTENT: list[ReviewedContent] = [
    ReviewedContent("Checklist items", "checklists.Item", scope=_live_items),
    ReviewedContent("Interaction rules", "checklists.InteractionRule"),
    ReviewedContent("Individual-variability rules", "checklists.VariabilityRule"),
    # Legal status rows and lab limits block publishing when overdue (issue 5). Their
    # models come with the legal and lab work; until then these entries are skipped.
    ReviewedContent(
        "Legal status rows", "checklists.LegalStatus", blocks_publish=True, required=False
    ),
    ReviewedContent("Lab limits", "checklists.LabLimit", blocks_publish=True, required=False),
]


@dataclass
class OverdueGroup:
    entry: ReviewedContent
    rows: list[models.Model] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.entry.label


def overdue_content(
    on: datetime.date, *, blocking_only: bool = False, registry: list[ReviewedContent] | None = None
) -> list[OverdueGroup]:
    """Rows past their review-by date, grouped by table (one query per installed table)."""
    groups = []
    for entry in REVIEWED_CONTENT if registry is None else registry:
        if blocking_only and not entry.blocks_publish:
            continue
        rows = entry.overdue(on)
        if rows is not None:
            groups.append(OverdueGroup(entry, list(rows)))
    return groups
