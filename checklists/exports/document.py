"""What every per-response export says, assembled once from a ResponseState.

The text note, the print view (and so the PDF) and the FHIR bundle all read a CaseNote,
so they cannot disagree about which answers, flags, acknowledgements, signature, signer,
medicines or revisions a checklist carries. Read-only: one extra query (the revision
chain) on top of what `load_state` already loaded, one for the acknowledgements and, for
a signed checklist, one for its frozen medicine list.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from typing import Any

from accounts.models import signature_text

from ..cases.readmodel import ResponseState, acknowledger_name
from ..models import Acknowledgement, ChecklistResponse, Item, ItemKind
from ..screening import Flag

NOT_ANSWERED = "Not answered"
ROW_COLUMNS = {
    ItemKind.MEDICATION_LIST: ("name", "dose", "frequency"),
    ItemKind.PRODUCT_LOT: ("product", "supplier", "lot"),
}
# The answers a clinician reading the note needs first (issue 19: the summary), in this
# order, with the short label the summary gives each; an item a version does not ask, or
# hides, is left out.
SUMMARY_ITEMS = {
    "advice_given": "Advice given",
    "use_after_advice": "Patient's intention",
    "start_low_details": "Harm-reduction advice",
    "monitoring_plan": "Monitoring",
    "warning_signs_explained": "Warning signs explained",
    "treatment_referral": "Referral",
    "follow_up_date": "Follow-up",
    "who_to_call": "Who to call",
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

    @property
    def label(self) -> str:
        """The summary's short label for this answer."""
        return SUMMARY_ITEMS.get(self.item.key, self.item.prompt)

    @property
    def summary_lines(self) -> list[str]:
        """As in the summary: each chosen option on a line of its own (option labels hold
        commas: "Avoid alcohol, opioids and other sedatives")."""
        if self.item.kind == ItemKind.MULTI_CHOICE and self.answered:
            return [clean(self.item.option_label(code)) for code in self.value]
        return self.lines


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
    # Who acknowledged: the signer as named at signing (acknowledgements are given with the
    # signature), else the account's username; "" when not acknowledged.
    acknowledger: str = ""
    # A serious problem of a draft not acknowledged yet (signing waits for it): said so in
    # the note, the print view and its summary alike.
    awaiting: bool = False


@dataclass(frozen=True)
class MedicineLine:
    """A listed medicine as entered, with the substance (or product) it matched: on a
    signed checklist as frozen at signing (MedicationEntry), on a draft as screened now."""

    position: int
    as_typed: str
    dose: str
    frequency: str
    substance_key: str  # "" when nothing matched
    substance_name: str


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
    # When the amendment that replaced this revision was signed (issue 19: a superseded
    # revision says when it stopped being the record, not only when it was signed).
    superseded_at: datetime.datetime | None = None


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
    signed_by: str  # "Dana Reyes, PharmD" as frozen at signing, else the username
    signed_at: datetime.datetime | None
    attestation: str
    sections: list[SectionLines]
    flags: list[FlagLine]
    revisions: list[Revision]
    # The signer as frozen at signing (name, credentials, registration_number); empty on a
    # draft and on a checklist signed before profiles existed.
    signer: dict[str, str]
    summary: list[AnswerLine]
    medicines: list[MedicineLine]

    @property
    def is_draft(self) -> bool:
        return self.status == ChecklistResponse.Status.DRAFT

    @property
    def flag_count(self) -> int:
        return len(self.flags)

    @property
    def registration_number(self) -> str:
        return clean(self.signer.get("registration_number", ""))


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
            "signed_as",
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
            signed_by=signature_text(
                by_pk[pk]["signed_as"], by_pk[pk]["signed_by__username"] or ""
            ),
            amend_reason=clean(by_pk[pk]["amend_reason"]),
            amends_id=by_pk[pk]["amends_id"],
            current=pk == response.pk,
            superseded_at=by_pk[later]["signed_at"] if (later := amended_by.get(pk)) else None,
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


def medicine_lines(state: ResponseState) -> list[MedicineLine]:
    """The medicine list: the frozen rows of a signed checklist (one query), or a draft's
    rows with what screening matched them to (no query: the flags needed it already)."""
    response = state.response
    if not response.is_draft:
        entries = response.medications.select_related("matched_substance").order_by("position")
        return [
            MedicineLine(
                position=e.position,
                as_typed=clean(e.name_as_typed),
                dose=clean(e.dose),
                frequency=clean(e.frequency),
                substance_key=e.matched_substance.key if e.matched_substance else "",
                substance_name=e.matched_name,
            )
            for e in entries
        ]
    rows = state.medication_rows
    return [
        MedicineLine(
            position=n,
            as_typed=clean(row["name"]),
            dose=clean(row.get("dose", "")),
            frequency=clean(row.get("frequency", "")),
            substance_key=match.substance.key if match.substance else "",
            substance_name=match.substance.name if match.substance else "",
        )
        for n, (row, match) in enumerate(zip(rows, state.medication_matches, strict=True), start=1)
    ]


def _flag_line(response: ChecklistResponse, flag: Flag, ack: Acknowledgement | None) -> FlagLine:
    if ack is None:
        awaiting = flag.needs_acknowledgement and response.is_draft
        return FlagLine(_clean_flag(flag), None, awaiting=awaiting)
    return FlagLine(_clean_flag(flag), ack, clean(acknowledger_name(response, ack)))


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
    by_key = {answer.item.key: answer for section in sections for answer in section.answers}
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
        signed_by=clean(response.signer_name),
        signed_at=response.signed_at,
        attestation=clean(response.attestation),
        sections=sections,
        flags=[_flag_line(response, f, acknowledgements.get(f.code)) for f in flags],
        revisions=revision_chain(response),
        signer={k: clean(v) for k, v in response.signed_as.items()} if response.signed_at else {},
        summary=[by_key[key] for key in SUMMARY_ITEMS if key in by_key],
        medicines=medicine_lines(state),
    )
