"""Read-side assembly of one response: sections, items, answers, visibility and flags.

Everything a section, review or response page shows, built in a fixed number of queries
whatever the number of items or answers. A published (or retired) version's sections,
items and citations never change again, so each process reads them once per version and
shares them between requests: treat them as read-only.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from .. import screening
from ..conditions import effective_answers, missing_required, split_at_page, visible_keys
from ..models import (
    Acknowledgement,
    Answer,
    ChecklistResponse,
    Citation,
    Item,
    ItemKind,
    Lot,
    Section,
    TemplateVersion,
)
from . import prefill
from .products import lot_label, resolve_products


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
    content: VersionContent
    # Set by cases.drafts.save_section: the rows as it left them, so a reply to the save
    # (the autosave's) is drawn with load_state(rows=...) without reading them again.
    saved_rows: list[Answer] | None = None

    @cached_property
    def knowledge(self) -> screening.KnowledgeBase:
        """The knowledge base, sources and legal places (one query while unchanged)."""
        return screening.knowledge_base()

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
    def place(self) -> str | None:
        """The answer to the jurisdiction question, if any."""
        item = next((i for i in self.items if i.kind == ItemKind.JURISDICTION), None)
        return self.answers.get(item.key) if item else None

    @property
    def legal_stale_before(self) -> datetime.date:
        return self.checklist_date - datetime.timedelta(days=settings.LEGAL_STALE_DAYS)

    @cached_property
    def screening_result(self) -> screening.ScreeningResult:
        """What the screening engine finds in the answers (a fixed number of queries)."""
        response = self.response
        on = self.checklist_date
        intake = screening.intake_from_answers(
            self.items,
            self.answers,
            on=on,
            birth_year=response.case.birth_year,
            place=response.case.jurisdiction if response.is_draft else None,
        )
        if intake.products:
            intake = replace(
                intake, products=resolve_products(intake.products, response.case.team_id)
            )
        return screening.screen(intake, base=self.knowledge)

    @cached_property
    def medication_rows(self) -> list[dict]:
        """The medicine list's rows that name a medicine, in order: what screening matched
        (`medication_matches` on a draft, one per row), what signing stores, what exports list."""
        return [
            row
            for item in self.items
            if item.screening_role == "medications"
            for row in self.answers.get(item.key) or []
            if isinstance(row, dict) and row.get("name")
        ]

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
    def acknowledger_names(self) -> dict[str, str]:
        """Who acknowledged each problem, named as the record names them."""
        return {
            code: acknowledger_name(self.response, a) for code, a in self.acknowledgements.items()
        }

    @cached_property
    def reconciliations(self) -> list[screening.Reconciliation]:
        """The questions the medicine list answers, on a draft (issue 16, point 5)."""
        if not self.response.is_draft:
            return []
        return screening.reconcile(self.items, self.answers, self.screening_result.matches)

    @property
    def contradictions(self) -> list[screening.Reconciliation]:
        """Answers the medicine list contradicts: signing waits until they are resolved."""
        return [r for r in self.reconciliations if r.contradiction]

    def reconciliations_for(self, items) -> list[screening.Reconciliation]:
        """What the medicine list says about the questions among `items` (a section page)."""
        keys = {i.key for i in items}
        return [r for r in self.reconciliations if r.item_key in keys]

    def from_case(self, items) -> dict[str, Any]:
        """What the case answers among `items` (its place, the age band of its birth year),
        on a draft: see cases/prefill.py."""
        if not self.response.is_draft:
            return {}
        return prefill.from_case(items, self.answers, self.response.case, self.checklist_date)

    def _defaults(self, items) -> dict[str, Any]:
        if not self.response.is_draft:
            return {}
        return prefill.defaults(items, self.answers, self.checklist_date)

    def prefilled(self, items) -> dict[str, Any]:
        """The starting answer of each unanswered question among `items`: what the case
        says, and the medicine list's answer ("Yes", or the options of the products it
        shows). The section form's initial value, which the clinician confirms or changes."""
        return {
            **self.from_case(items),
            **self._defaults(items),
            **self.from_problems(items),
            **self.from_medicines(items),
        }

    def from_problems(self, items) -> dict[str, Any]:
        """What the problems raised suggest for the monitoring plan, on a draft (computes
        the flags: a section page's GET, which shows them anyway)."""
        if not self.response.is_draft:
            return {}
        keys = [f.code.removeprefix("problem:") for f in self.ensure_flags()]
        return prefill.from_problems(items, self.answers, keys)

    def from_medicines(self, items) -> dict[str, Any]:
        """The medicine list's answer to each unanswered question among `items`."""
        values: dict[str, Any] = {}
        for r in self.reconciliations_for(items):
            if r.answer is None:
                value = r.prefill
                values[r.item_key] = (
                    [*values.get(r.item_key, []), *value] if isinstance(value, list) else value
                )
        return values

    @cached_property
    def carried_acknowledgements(self) -> dict[str, Acknowledgement]:
        """On an amendment's draft: the amended revision's acknowledgement of each serious
        problem that is unchanged (same contributors, same severity: `screening.fingerprint`),
        offered again (issue 16). A changed problem is not here: it needs a new one. Two
        queries, and none for a first revision."""
        amended_id = self.response.amends_id
        if not self.response.is_draft or amended_id is None:
            return {}
        before = ChecklistResponse.objects.only("flags_snapshot").get(pk=amended_id)
        then = {
            f.code: screening.fingerprint(f)
            for f in map(screening.Flag.from_dict, before.flags_snapshot)
        }
        acks = Acknowledgement.objects.filter(response_id=amended_id).select_related(
            "acknowledged_by", "response"
        )
        by_code = {a.flag_code: a for a in acks}
        return {
            f.code: by_code[f.code]
            for f in self.ensure_flags()
            if f.needs_acknowledgement
            and f.code in by_code
            and then.get(f.code) == screening.fingerprint(f)
        }

    @cached_property
    def citations(self) -> dict[int, list[Citation]]:
        """Citations by item id, with their sources from the knowledge base, each item's
        in evidence order (in_evidence_order)."""
        content = self.content
        knowledge = self.knowledge
        if content.citations is not None and content.citations[0] is knowledge:
            return content.citations[1]
        found: dict[int, list[Citation]] = defaultdict(list)
        for pk, item_id, source_id, locator in content.citation_rows():
            citation = Citation(pk=pk, item_id=item_id, source_id=source_id, locator=locator)
            citation.source = knowledge.sources[source_id]
            found[item_id].append(citation)
        found = {item_id: in_evidence_order(cs) for item_id, cs in found.items()}
        if content.frozen:
            # Kept with the knowledge base they were built from: an edited source title
            # (a new knowledge base) builds them again.
            content.citations = (knowledge, found)
        return found

    def ensure_flags(self) -> list[screening.Flag]:
        if self.flags is None:
            self.flags = draft_flags(self)
        return self.flags

    @property
    def can_sign(self) -> bool:
        return self.response.is_draft and not self.missing and not self.contradictions


def acknowledger_name(response: ChecklistResponse, ack: Acknowledgement) -> str:
    """The signer as frozen at signing ("Dana Reyes, PharmD") when the signer acknowledged
    it, as they do at signing; otherwise the user's name."""
    if response.signed_at and ack.acknowledged_by_id == response.signed_by_id:
        return response.signer_name
    return ack.acknowledged_by.get_username()


def in_evidence_order(citations: Iterable[Citation]) -> list[Citation]:
    """An item's citations as pages, prints and exports show them: by the kind of their
    source (Source.EVIDENCE_ORDER: labels, regulators and law first, the source documents
    last), then in the order the checklist lists them. Sorted once, where citations are read,
    so no template or export orders them on its own."""
    return sorted(citations, key=lambda c: c.source.evidence_rank)


def jurisdiction_choices(knowledge: screening.KnowledgeBase | None = None) -> list[tuple[str, str]]:
    """(code, "Name, parent") for every place in the legal table."""
    return (knowledge or screening.knowledge_base()).place_choices


@dataclass
class VersionContent:
    """A version's sections and items in order, and its citations once built."""

    version_id: int
    frozen: bool
    sections: list[Section]
    items: list[Item]
    # (the knowledge base they were built with, citations by item id); frozen versions only
    citations: tuple[screening.KnowledgeBase, dict[int, list[Citation]]] | None = None
    _citation_rows: list[tuple[int, int, int, str]] | None = None

    def citation_rows(self) -> list[tuple[int, int, int, str]]:
        """(id, item id, source id, locator) in id order: one query, once per version."""
        if self._citation_rows is None:
            rows = Citation.objects.filter(item__version_id=self.version_id).order_by("id")
            self._citation_rows = list(rows.values_list("pk", "item_id", "source_id", "locator"))
        return self._citation_rows


def _read_content(version_id: int, frozen: bool) -> VersionContent:
    sections = list(Section.objects.filter(version_id=version_id).order_by("position"))
    items = list(Item.objects.filter(version_id=version_id).order_by("position"))
    by_section = {s.id: s for s in sections}
    for item in items:
        item.section = by_section[item.section_id]  # no query per item.section later
    items.sort(key=lambda i: (i.section.position, i.position))
    return VersionContent(version_id, frozen, sections, items)


def version_content(response: ChecklistResponse) -> VersionContent:
    """The sections and items of the response's version: two queries, or none when this
    process has already read that version and it is published or retired (its content
    can no longer change)."""
    field = ChecklistResponse._meta.get_field("version")
    if not field.is_cached(response) or response.version.status not in TemplateVersion.FROZEN:
        return _read_content(response.version_id, frozen=False)
    # Kept in the "reference" cache (settings.CACHES) with no timeout: a frozen version's
    # content never changes; MAX_ENTRIES drops the least recently used. Published-at is part
    # of the key so that an id reused after a rollback (tests) can never bring back another
    # version's content.
    published = response.version.published_at
    key = f"version-content:{response.version_id}:{published.isoformat() if published else ''}"
    return caches["reference"].get_or_set(
        key, lambda: _read_content(response.version_id, frozen=True), timeout=None
    )


def _revealed_here(item, on_page: set[str], answers: dict[str, Any]) -> bool:
    """A hidden item the section's own answers can still reveal (the page's script shows
    it as they change): every part of its condition about other sections holds."""
    elsewhere, own = split_at_page(item.show_when, on_page, answers)
    return elsewhere and own is not None


def load_state(
    response: ChecklistResponse, *, with_flags: bool = True, rows: list[Answer] | None = None
) -> ResponseState:
    """Everything about one response that pages show; `with_flags=False` skips the
    screening (and its citation query) for write paths that do not render. `rows`: the
    response's answers when the caller has them all already (a save just wrote them)."""
    content = version_content(response)
    sections, items = content.sections, content.items
    if rows is None:
        rows = list(Answer.objects.filter(response=response))
    rows = {a.item_id: a for a in rows}
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
        form_items = [i for i in own if i.key in visible or _revealed_here(i, own_keys, answers)]
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
        content=content,
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
    """The problems a draft raises now (a signed response shows its frozen snapshot): the
    checklist items' own cautions and what the screening engine finds, folded together."""
    titles = {item_id: [str(c.source) for c in cs] for item_id, cs in state.citations.items()}
    result = state.screening_result
    items = screening.item_caution_flags(state.items, state.answers, titles)
    return screening.fold(items + result.raw, result.problems)


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
