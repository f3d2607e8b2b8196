"""Read-side assembly of one response: sections, items, answers, visibility and flags.

Everything a section, review or response page shows, built in a fixed number of queries
whatever the number of items or answers.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import screening
from .conditions import effective_answers, missing_required, visible_keys
from .models import (
    Acknowledgement,
    Answer,
    ChecklistResponse,
    Citation,
    Item,
    Jurisdiction,
    Lot,
    Section,
)


@dataclass
class SectionState:
    section: Section
    items: list[Item]
    number: int
    complete: bool = False
    answered_count: int = 0
    visible_items: list[Item] = field(default_factory=list)
    # Visible items plus those whose condition depends on this section's own answers:
    # the page shows them and a small script hides them until their condition holds.
    form_items: list[Item] = field(default_factory=list)

    def has_kind(self, kind: str) -> bool:
        return any(item.kind == kind for item in self.items)


@dataclass
class ResponseState:
    response: ChecklistResponse
    sections: list[SectionState]
    items: list[Item]
    answers: dict[str, Any]
    answer_rows: dict[str, Answer]
    visible: set[str]
    missing: list[Item]
    flags: list[screening.Flag] | None  # None: not computed (see load_state)
    # Answer rows by item id, for writers that update them in place.
    rows_by_item: dict[int, Answer]

    def team_lots(self) -> list[tuple[int, str]]:
        """The case's team's recorded lots as (id, label) choices (one query)."""
        lots = Lot.objects.filter(product__supplier__team_id=self.response.case.team_id)
        return [(lot.pk, lot_label(lot)) for lot in lots.select_related("product__supplier")]

    def section(self, key: str) -> SectionState | None:
        return next((s for s in self.sections if s.section.key == key), None)

    @property
    def checklist_date(self) -> datetime.date:
        """The date the checklist speaks for: its signing date, or today for a draft (so a
        draft signed today is judged by today's law)."""
        if self.response.signed_at:
            return timezone.localdate(self.response.signed_at)
        return timezone.localdate()

    @property
    def legal_stale_before(self) -> datetime.date:
        return self.checklist_date - datetime.timedelta(days=settings.LEGAL_STALE_DAYS)

    @cached_property
    def screening_result(self) -> screening.ScreeningResult:
        """What the screening engine finds in the answers (a fixed number of queries)."""
        response = self.response
        on = self.checklist_date
        intake = screening.intake_from_answers(
            self.items, self.answers, on=on, birth_year=response.case.birth_year
        )
        if intake.products:
            intake = replace(
                intake, products=resolve_products(intake.products, response.case.team_id)
            )
        return screening.screen(intake)

    @cached_property
    def medication_matches(self) -> list[screening.MedicationMatch]:
        if not self.response.is_draft:
            return [
                screening.MedicationMatch(
                    m.name_as_typed,
                    screening.SubstanceInfo(m.matched_substance_id, "", m.matched_name, frozenset())
                    if m.matched_name
                    else None,
                )
                for m in self.response.medications.all()
            ]
        return self.screening_result.matches

    @cached_property
    def acknowledgements(self) -> dict[str, Acknowledgement]:
        return {
            a.flag_code: a for a in self.response.acknowledgements.select_related("acknowledged_by")
        }

    @cached_property
    def citations(self) -> dict[int, list[Citation]]:
        """Citations by item id, loaded on first use (one query)."""
        found: dict[int, list[Citation]] = defaultdict(list)
        rows = Citation.objects.filter(item__version_id=self.response.version_id)
        for citation in rows.select_related("source").order_by("id"):
            found[citation.item_id].append(citation)
        return found

    def ensure_flags(self) -> list[screening.Flag]:
        if self.flags is None:
            self.flags = draft_flags(self)
        return self.flags

    @property
    def can_sign(self) -> bool:
        return self.response.is_draft and not self.missing


def jurisdiction_choices() -> list[tuple[str, str]]:
    """(code, "Name, parent") for every place in the legal table (one query)."""
    places = Jurisdiction.objects.select_related("parent").order_by("code")
    return [(p.code, p.label()) for p in places]


def lot_label(lot: Lot) -> str:
    product = lot.product
    return (
        f"{product.name} ({product.get_form_display().lower()}), lot {lot.lot_number} · "
        f"{product.supplier.name}"
    )


def resolve_products(rows, team_id: int) -> tuple[dict, ...]:
    """Turn product answers into the screening engine's product objects.

    A row naming one of the team's lots brings the lot's product and its most recent
    certificate of analysis (two queries); a free-text row has no certificate on file.
    """
    ids = [row["lot_id"] for row in rows if "lot_id" in row]
    lots = (
        {
            lot.pk: lot
            for lot in Lot.objects.filter(pk__in=ids, product__supplier__team_id=team_id)
            .select_related("product__supplier")
            .prefetch_related("certificates")
        }
        if ids
        else {}
    )
    products = []
    for row in rows:
        lot = lots.get(row.get("lot_id"))
        if lot is not None:
            latest = max(lot.certificates.all(), key=lambda c: (c.tested_on, c.pk), default=None)
            products.append(
                {
                    "name": lot.product.name,
                    "substance": lot.product.substance,
                    "form": lot.product.form,
                    "label_lot": lot.lot_number,
                    "label_amount_mg": lot.product.labelled_amount_mg,
                    "coa": None
                    if latest is None
                    else {
                        "lot": latest.coa_lot_number,
                        "tested_on": latest.tested_on,
                        "lab_accredited": bool(latest.accreditation_id),
                        "results": latest.results,
                    },
                }
            )
        elif "lot_id" not in row:
            products.append(
                {
                    "name": row.get("product") or "Unrecorded product",
                    "substance": None,
                    "form": "other",
                    "label_lot": row.get("lot"),
                    "coa": None,
                }
            )
    return tuple(products)


def load_state(response: ChecklistResponse, *, with_flags: bool = True) -> ResponseState:
    """Everything about one response that pages show; `with_flags=False` skips the
    screening (and its citation query) for write paths that do not render."""
    sections = list(Section.objects.filter(version_id=response.version_id).order_by("position"))
    items = list(Item.objects.filter(version_id=response.version_id).order_by("position"))
    by_section = {s.id: s for s in sections}
    for item in items:
        item.section = by_section[item.section_id]  # no query per item.section later
    items.sort(key=lambda i: (i.section.position, i.position))
    rows = {a.item_id: a for a in Answer.objects.filter(response=response)}
    by_id = {i.id: i for i in items}
    raw = {by_id[item_id].key: row.value for item_id, row in rows.items() if item_id in by_id}
    answers = effective_answers(items, raw)
    visible = visible_keys(items, answers)
    missing = missing_required(items, answers)
    missing_keys = {i.key for i in missing}

    # A signed response shows the flags frozen on it; a draft's are computed on demand.
    flags = (
        None
        if response.is_draft
        else [screening.Flag.from_dict(f) for f in response.flags_snapshot]
    )

    states = []
    for number, section in enumerate(sections, start=1):
        own = [i for i in items if i.section_id == section.id]
        shown = [i for i in own if i.key in visible]
        own_keys = {i.key for i in own}
        form_items = [
            i for i in own if i.key in visible or (i.show_when and i.show_when["item"] in own_keys)
        ]
        states.append(
            SectionState(
                section=section,
                items=own,
                number=number,
                visible_items=shown,
                form_items=form_items,
                answered_count=sum(1 for i in shown if i.key in answers),
                complete=not any(i.key in missing_keys for i in own),
            )
        )
    state = ResponseState(
        response=response,
        sections=states,
        items=items,
        answers=answers,
        answer_rows={by_id[k].key: v for k, v in rows.items() if k in by_id},
        visible=visible,
        missing=missing,
        flags=flags,
        rows_by_item=rows,
    )
    if with_flags:
        state.ensure_flags()
    return state


def draft_flags(state: ResponseState) -> list[screening.Flag]:
    """The flags a draft raises now (a signed response shows its frozen snapshot):
    the checklist items' own cautions plus what the screening engine finds."""
    titles = {item_id: [str(c.source) for c in cs] for item_id, cs in state.citations.items()}
    result = state.screening_result
    return screening.sort_flags(
        screening.item_caution_flags(state.items, state.answers, titles) + result.flags
    )


@dataclass(frozen=True)
class AnswerChange:
    item: Item
    before: Any
    after: Any


def revision_changes(state: ResponseState) -> list[AnswerChange]:
    """What this revision changed against the one it amends (one query), in item order."""
    previous = state.response.amends_id
    if previous is None:
        return []
    by_id = {i.id: i for i in state.items}
    before = {
        by_id[a.item_id].key: a.value
        for a in Answer.objects.filter(response_id=previous)
        if a.item_id in by_id
    }
    return [
        AnswerChange(item, before.get(item.key), state.answers.get(item.key))
        for item in state.items
        if before.get(item.key) != state.answers.get(item.key)
    ]
