"""What every per-response export says, assembled once from a ResponseState.

The text note, the print view (and so the PDF) and the FHIR bundle all read a CaseNote,
so they cannot disagree about which answers, flags, acknowledgements, signature or
revisions a checklist carries. Read-only: one extra query (the revision chain) on top of
what `load_state` already loaded, and one for the acknowledgements.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from typing import Any

from ..cases.readmodel import ResponseState
from ..models import Acknowledgement, ChecklistResponse, Item, ItemKind
from ..screening import Flag

NOT_ANSWERED = "Not answered"
ROW_COLUMNS = {
    ItemKind.MEDICATION_LIST: ("name", "dose", "frequency"),
    ItemKind.PRODUCT_LOT: ("product", "supplier", "lot"),
}
# C0/C1 control characters other than tab and newline: never meaningful in an answer,
# and some (escape sequences, bidi-less carriage returns) can garble an EHR or a terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: Any) -> str:
    return _CONTROL.sub("", str(text))


def utc(moment: datetime.datetime | None) -> str:
    """A timestamp as written in every export: minutes, UTC, ISO-like."""
    if moment is None:
        return ""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def answer_lines(item: Item, value: Any) -> list[str]:
    """An answer as plain text lines: option labels, one line per structured row."""
    if value in (None, "", []):
        return [NOT_ANSWERED]
    if item.kind in (ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE):
        return [clean(item.option_label(value))]
    if item.kind == ItemKind.MULTI_CHOICE:
        return [", ".join(clean(item.option_label(code)) for code in value)]
    if item.kind in ROW_COLUMNS:
        return [_row_line(item, row) for row in value if isinstance(row, dict)] or [NOT_ANSWERED]
    return clean(value).splitlines() or [NOT_ANSWERED]


def _row_line(item: Item, row: dict) -> str:
    if "lot_id" in row:  # a lot picked from the team's list: its label as saved
        return clean(row.get("label") or f"Recorded lot {row['lot_id']}")
    return " · ".join(clean(row.get(col)) for col in ROW_COLUMNS[item.kind] if row.get(col))


def answer_text(item: Item, value: Any) -> str:
    return "; ".join(answer_lines(item, value))


@dataclass(frozen=True)
class AnswerLine:
    item: Item
    value: Any
    lines: list[str]

    @property
    def prompt(self) -> str:
        return self.item.prompt

    @property
    def answered(self) -> bool:
        return self.lines != [NOT_ANSWERED]


@dataclass(frozen=True)
class SectionLines:
    number: int
    key: str
    title: str
    answers: list[AnswerLine]


@dataclass(frozen=True)
class FlagLine:
    flag: Flag
    acknowledgement: Acknowledgement | None


@dataclass(frozen=True)
class Revision:
    pk: int
    revision: int
    status: str
    signed_at: datetime.datetime | None
    signed_by: str
    amend_reason: str
    amends_id: int | None
    current: bool


@dataclass(frozen=True)
class CaseNote:
    response: ChecklistResponse
    case_reference: str
    team: str
    template_title: str
    canonical_url: str
    version_number: int
    content_hash: str
    status: str
    status_label: str
    revision: int
    started_by: str
    started_at: datetime.datetime
    signed_by: str
    signed_at: datetime.datetime | None
    attestation: str
    sections: list[SectionLines]
    flags: list[FlagLine]
    revisions: list[Revision]

    @property
    def is_draft(self) -> bool:
        return self.status == ChecklistResponse.Status.DRAFT

    @property
    def flag_count(self) -> int:
        return len(self.flags)


def revision_chain(response: ChecklistResponse) -> list[Revision]:
    """Every revision linked to this one through `amends`, oldest first, in one query.

    Empty when the checklist was never amended (nor amends another).
    """
    rows = list(
        ChecklistResponse.objects.filter(case_id=response.case_id)
        .values(
            "pk",
            "revision",
            "status",
            "signed_at",
            "signed_by__username",
            "amend_reason",
            "amends_id",
        )
        .order_by("revision", "pk")
    )
    by_pk = {row["pk"]: row for row in rows}
    amended_by = {row["amends_id"]: row["pk"] for row in rows if row["amends_id"]}
    pk, seen = response.pk, {response.pk}
    while (earlier := by_pk[pk]["amends_id"]) in by_pk and earlier not in seen:
        pk = earlier
        seen.add(pk)
    chain = [pk]
    while (later := amended_by.get(chain[-1])) is not None and later not in chain:
        chain.append(later)
    if len(chain) < 2:
        return []
    return [
        Revision(
            pk=pk,
            revision=by_pk[pk]["revision"],
            status=ChecklistResponse.Status(by_pk[pk]["status"]).label,
            signed_at=by_pk[pk]["signed_at"],
            signed_by=by_pk[pk]["signed_by__username"] or "",
            amend_reason=clean(by_pk[pk]["amend_reason"]),
            amends_id=by_pk[pk]["amends_id"],
            current=pk == response.pk,
        )
        for pk in chain
    ]


def _answer_line(item: Item, value: Any) -> AnswerLine:
    return AnswerLine(item=item, value=value, lines=answer_lines(item, value))


def _clean_flag(flag: Flag) -> Flag:
    # Titles can quote what a clinician typed (an unmatched medicine, for one).
    return replace(
        flag,
        title=clean(flag.title),
        advice=clean(flag.advice),
        sources=tuple(clean(s) for s in flag.sources),
    )


def build_note(state: ResponseState) -> CaseNote:
    """The export view of one response: visible items only (a hidden item's answer is
    never kept), each with its prompt as worded in the response's own version."""
    response = state.response
    version = response.version
    sections = [
        SectionLines(
            number=s.number,
            key=s.section.key,
            title=s.section.title,
            answers=[_answer_line(item, state.answers.get(item.key)) for item in s.visible_items],
        )
        for s in state.sections
    ]
    acknowledgements = state.acknowledgements
    flags = state.ensure_flags()
    return CaseNote(
        response=response,
        case_reference=clean(response.case.reference),
        team=clean(response.case.team.name),
        template_title=version.template.title,
        canonical_url=version.template.canonical_url,
        version_number=version.number,
        content_hash=version.content_hash,
        status=response.status,
        status_label=response.get_status_display(),
        revision=response.revision,
        started_by=response.started_by.get_username(),
        started_at=response.started_at,
        signed_by=response.signed_by.get_username() if response.signed_by else "",
        signed_at=response.signed_at,
        attestation=clean(response.attestation),
        sections=sections,
        flags=[FlagLine(_clean_flag(f), acknowledgements.get(f.code)) for f in flags],
        revisions=revision_chain(response),
    )
