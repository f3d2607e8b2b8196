"""What must hold before a checklist version may be published: the list of reasons.

`validate_version` is the one check; `submit_for_review` and `approve_and_publish` (the
version workflow) refuse with its reasons, and the version's admin page shows them while
the editor works. Reads only.

Review dates are one of its reasons: every reviewed table (checklist items, knowledge
rules, substances, legal rows, lab limits) has `reviewed_on` and `review_by` date
fields. The overdue page and the publishing gate both iterate REVIEWED_CONTENT (below),
so a new reviewed table needs one entry there and nothing else. Tables built elsewhere
are named by label; an entry whose model is not installed yet is skipped (the legal and
lab-limit tables arrive with other work), and one whose model exists without the two
date fields fails loudly.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone

from ..conditions import condition_items
from ..models import Answer, Item, TemplateVersion
from ..models.knowledge import is_question
from .files import CHOICE_KINDS, version_data


def content_problems(sections: list[dict[str, Any]]) -> list[str]:
    """Problems in one version's content (the shape of a checklist file); pure."""
    problems: list[str] = []
    items = [item for section in sections for item in section["items"]]
    if not items:
        return ["The version has no items."]
    counts = Counter(item["key"] for item in items)
    for key, count in counts.items():
        if count > 1:
            problems.append(f"Item key {key!r} is used {count} times; keys must be unique.")
    seen: set[str] = set()
    every_key = set(counts)
    for item in items:
        key = item["key"]
        if not item.get("citations"):
            problems.append(f"Item {key!r} cites no source.")
        for target in condition_items(item.get("show_when")):
            if target not in every_key:
                problems.append(
                    f"Item {key!r}: its show-when refers to {target!r}, which is missing."
                )
            elif target not in seen:
                problems.append(
                    f"Item {key!r}: its show-when refers to {target!r}, which comes later; "
                    "a condition may only refer to an earlier item."
                )
        joined = (item.get("show_when") or {}).get("all", [])
        if any(p.get("op") == "in" and len(p.get("value") or []) > 1 for p in joined):
            problems.append(
                f"Item {key!r}: a show-when that joins conditions with “and” cannot also ask "
                "for “one of” several answers (FHIR's enableWhen has no such form)."
            )
        codes = Counter(o.get("code") for o in item.get("options") or [])
        for code, count in codes.items():
            if count > 1:
                problems.append(f"Item {key!r}: option code {code!r} is used {count} times.")
        if item.get("kind") in CHOICE_KINDS and not codes:
            problems.append(f"Item {key!r} is a choice with no options.")
        problems += _caution_problems(key, item.get("caution"))
        seen.add(key)
    return problems


def _caution_problems(key: str, caution: dict | None) -> list[str]:
    """A caution names its problem as a statement (issue 16), never as the item's question."""
    if not caution:
        return []
    title = caution.get("title")
    if not title or not str(title).strip():
        return [f"Item {key!r}: its caution has no title; state the problem it raises."]
    if is_question(title):
        return [f"Item {key!r}: its caution title ends with '?'; state the problem instead."]
    return []


def relabelled_codes_in_use(
    version: TemplateVersion, *, labels: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """Option codes that responses used with one label and that this version relabels.

    A code's meaning is its label: an old answer "daily" must keep meaning "Daily". A new
    meaning needs a new code. `labels` ({item key: {code: label}}) checks options an editor
    is about to save instead of the stored ones (the item form asks before saving). Costs
    two queries, whatever the number of responses.
    """
    if labels is None:
        labels = {
            item.key: {o["code"]: o["label"] for o in item.options or []}
            for item in version.items.filter(kind__in=CHOICE_KINDS)
        }
    earlier = (
        Item.objects.filter(
            version__template_id=version.template_id, kind__in=CHOICE_KINDS, key__in=labels
        )
        .exclude(version=version)
        .values_list("id", "key", "options", "version__number")
    )
    changed: dict[int, tuple[str, int, dict[str, tuple[str, str]]]] = {}
    for item_id, key, options, number in earlier:
        differs = {
            o["code"]: (o["label"], labels[key][o["code"]])
            for o in options or []
            if o["code"] in labels[key] and _same(o["label"]) != _same(labels[key][o["code"]])
        }
        if differs:
            changed[item_id] = (key, number, differs)
    if not changed:
        return []
    used: set[tuple[int, str]] = set()
    for item_id, value in Answer.objects.filter(item_id__in=changed).values_list(
        "item_id", "value"
    ):
        for code in value if isinstance(value, list) else [value]:
            if isinstance(code, str) and code in changed[item_id][2]:
                used.add((item_id, code))
    problems = []
    for item_id, code in sorted(used, key=lambda pair: (changed[pair[0]][1], pair)):
        key, number, differs = changed[item_id]
        old, new = differs[code]
        problems.append(
            f"Item {key!r}: option code {code!r} was answered as {old!r} on v{number} and would "
            f"now mean {new!r}; give the new meaning a new code."
        )
    return problems


def _same(label: str) -> str:
    return " ".join(label.split())


def validate_version(version: TemplateVersion, *, on: datetime.date | None = None) -> list[str]:
    """Every reason this version may not be published now; empty when it may.

    Checked: items without a source, repeated item keys, show-when conditions on a missing
    or later item, repeated option codes, option codes that responses used and whose label
    changed, and overdue content in the tables that block publishing (legal, lab limits).
    """
    problems = content_problems(version_data(version)["sections"])
    problems += relabelled_codes_in_use(version)
    for group in overdue_content(on or timezone.localdate(), blocking_only=True):
        if group.rows:
            shown = ", ".join(str(row) for row in group.rows[:5])
            more = f" and {len(group.rows) - 5} more" if len(group.rows) > 5 else ""
            problems.append(
                f"{group.label}: {len(group.rows)} row(s) past their review-by date "
                f"({shown}{more}); review them before publishing."
            )
    return problems


# Review dates: which content rows are past their review-by date.


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
    ReviewedContent("Clinical problems", "checklists.Problem"),
    ReviewedContent("Medicine combination rules", "checklists.CombinationRule"),
    # Issue 17: a class's members and a product's ingredients are clinical claims too.
    ReviewedContent("Substances (classes, products and their members)", "checklists.Substance"),
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


# Legal rows going stale: screening asks the clinician's own check of the law for a row
# verified more than LEGAL_STALE_DAYS before the checklist (screening/rules/legal.py). The
# overdue page lists the rows that reach that age within this many days, or have already,
# so an editor can re-verify them before every kratom screen there raises the check.
STALE_WARNING_DAYS = 30


def legal_rows_going_stale(on: datetime.date, *, within_days: int = STALE_WARNING_DAYS) -> list:
    """Legal rows stale on `on` or within `within_days` after it (oldest first), each
    still in force then; rows marked unclear are left out (LegalStatusQuerySet.stale_by)."""
    model = apps.get_model("checklists.LegalStatus")
    horizon = on + datetime.timedelta(days=within_days)
    return list(model.objects.stale_by(horizon))
