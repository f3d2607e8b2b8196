"""A version's content as a clinician will see it, before it is published (issue 21).

The preview builds the checklist's own section form (forms/sections.py) for a draft's items
and asks the screening engine's public `item_caution_flags` which cautions the answers an
editor tries would raise. Nothing is stored: the answers come from the preview page's own
form (GET) and go nowhere else. Four queries whatever the size of the version.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from .. import screening
from ..conditions import split_at_page
from ..forms.sections import SectionForm
from ..models import Citation, Item, Section, TemplateVersion


@dataclass
class Preview:
    version: TemplateVersion
    sections: list[Section]
    form: SectionForm
    rows: list[dict]
    flags: list = field(default_factory=list)
    tried: bool = False  # whether answers were given

    def rows_of(self, section: Section) -> list[dict]:
        return [row for row in self.rows if row["item"].section_id == section.pk]


def build_preview(
    version: TemplateVersion, *, section_key: str = "", answers: QueryDict | None = None
) -> Preview:
    """The sections of `version` (one, when `section_key` names it) as form rows, with the
    cautions raised by `answers` (the preview form's GET data) over the whole version."""
    sections = list(version.sections.order_by("position"))
    if section_key:
        sections = [s for s in sections if s.key == section_key]
    every_item = list(
        Item.objects.filter(version=version)
        .select_related("section")
        .order_by("section__position", "position")
    )
    shown = {s.pk for s in sections}
    items = [item for item in every_item if item.section_id in shown]
    citations: dict[int, list[Citation]] = {}
    for citation in (
        Citation.objects.filter(item__version=version).select_related("source").order_by("id")
    ):
        citations.setdefault(citation.item_id, []).append(citation)
    tried = bool(answers) and any(key != "section" for key in answers)
    data = None
    if tried:
        data = answers.copy()
        data["lock_version"] = "0"
    form = SectionForm(data, items=items, answers={}, initial={"lock_version": 0})
    flags: list = []
    if tried and form.is_valid():
        values: dict[str, Any] = form.values()
        titles = {item_id: [c.source.title for c in rows] for item_id, rows in citations.items()}
        flags = screening.item_caution_flags(_as_previewed(items), values, titles)
    rows = form.rows(citations, {item.key: item for item in every_item})
    return Preview(version, sections, form, rows, flags, tried)


def _as_previewed(items: list[Item]) -> list[Item]:
    """The shown items, a show-when on a question not shown (another section's) taken as
    met: the page has no answer to decide it by, and the editor previews this section to
    see what its own answers raise (its show-when script does the same)."""
    shown = {item.key for item in items}
    previewed = []
    for item in items:
        _, here = split_at_page(item.show_when, shown, {})
        if here != item.show_when:  # a part about another section: taken as met
            item = copy.copy(item)
            item.show_when = here
        previewed.append(item)
    return previewed
