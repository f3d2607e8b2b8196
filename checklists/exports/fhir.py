"""fhir.json: a FHIR R4B Bundle (type collection) for one response.

Entries: the QuestionnaireResponse (questionnaire = the template's canonical url|version,
items nested by section, answers typed by item kind); the signer as a Practitioner (name,
credentials as a qualification, registration number), frozen at signing; one
MedicationStatement per listed medicine (its text as entered, the substance it matched in
our own code system); and one DetectedIssue per problem, implicating the medicines its
contributors name and the QuestionnaireResponse, authored by the Practitioner. What FHIR
has no element for (content hash, revision chain, attestation, our five-level severity)
travels in extensions under the template's own canonical base.

No RxNorm code is sent: the knowledge base holds none (no field or value for one in
`Substance` or content/knowledge/, checked 2026-11-30), and a code is never made up from a
name. The qualification is the credentials as text (our choices are not mapped to a code
system here); both can gain codings once a reviewed table holds them.

Every bundle is validated with fhir.resources (R4B) before it leaves; the code value sets
that library does not check (statuses, severity) are fixed by the maps below.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from ..cases.readmodel import load_state
from ..models import ChecklistResponse, ItemKind
from .document import ROW_COLUMNS, CaseNote, MedicineLine, build_note, clean

# QuestionnaireResponse.status (required binding, questionnaire-answers-status).
QR_STATUS_CODES = frozenset({"in-progress", "completed", "amended", "entered-in-error", "stopped"})
# DetectedIssue.status (required binding, observation-status).
ISSUE_STATUS_CODES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
# DetectedIssue.severity (required binding, detectedissue-severity).
ISSUE_SEVERITY_CODES = frozenset({"high", "moderate", "low"})

SEVERITY = {
    "contraindicated": "high",
    "major": "high",
    "moderate": "moderate",
    "minor": "low",
    "info": "low",
}
ISSUE_STATUS = {
    ChecklistResponse.Status.DRAFT: "preliminary",
    ChecklistResponse.Status.SIGNED: "final",
    ChecklistResponse.Status.SUPERSEDED: "final",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_3166 = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def questionnaire_status(note: CaseNote) -> str:
    """A draft is in progress; a signed revision that amends an earlier one is "amended";
    any other signed (or since superseded) checklist was completed as it stands."""
    if note.is_draft:
        return "in-progress"
    if note.status == ChecklistResponse.Status.SIGNED and note.response.amends_id:
        return "amended"
    return "completed"


def canonical_base(canonical_url: str) -> str:
    return canonical_url.split("/Questionnaire/")[0].rstrip("/")


def fhir_datetime(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _urn(base: str, *parts: Any) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join([base, *map(str, parts)])))


def _coding(code: str, display: str, system: str | None = None) -> dict[str, str]:
    coding = {"code": code, "display": clean(display)}
    return {"system": system, **coding} if system else coding


def typed_answers(item, value) -> list[dict[str, Any]]:
    """FHIR answers for one stored value, typed by the item's kind."""
    kind = item.kind
    if kind in (ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE):
        return [{"valueCoding": _coding(value, item.option_label(value))}]
    if kind == ItemKind.MULTI_CHOICE:
        return [{"valueCoding": _coding(code, item.option_label(code))} for code in value]
    if kind == ItemKind.NUMBER and not isinstance(value, bool):
        if isinstance(value, int):
            return [{"valueInteger": value}]
        if isinstance(value, float):
            return [{"valueDecimal": value}]
    if kind == ItemKind.DATE and isinstance(value, str) and _DATE.match(value):
        return [{"valueDate": value}]
    if kind == ItemKind.JURISDICTION and isinstance(value, str) and _ISO_3166.match(value):
        system = "urn:iso:std:iso:3166:-2" if "-" in value else "urn:iso:std:iso:3166"
        return [{"valueCoding": _coding(value, value, system)}]
    if kind in ROW_COLUMNS:
        answers = []
        for row in value:
            parts = [(col, clean(row[col])) for col in ROW_COLUMNS[kind] if row.get(col)]
            if not parts:
                continue
            answers.append(
                {
                    "valueString": " · ".join(text for _, text in parts),
                    "item": [
                        {
                            "linkId": f"{item.key}.{col}",
                            "text": col.capitalize(),
                            "answer": [{"valueString": text}],
                        }
                        for col, text in parts
                    ],
                }
            )
        return answers
    return [{"valueString": clean(value)}]


def _extension(base: str, name: str, **value: Any) -> dict[str, Any]:
    return {"url": f"{base}/StructureDefinition/checklist-{name}", **value}


def _response_reference(base: str, pk: int) -> dict[str, Any]:
    return {"identifier": {"system": f"{base}/checklist-response", "value": str(pk)}}


def questionnaire_response(note: CaseNote, subject: dict[str, Any]) -> dict[str, Any]:
    base = canonical_base(note.canonical_url)
    response = note.response
    extensions = [
        _extension(base, "title", valueString=note.template_title),
        _extension(base, "content-hash", valueString=note.content_hash or "unknown"),
        _extension(base, "revision", valueInteger=note.revision),
    ]
    if note.attestation:
        extensions.append(_extension(base, "attestation", valueString=note.attestation))
    for rev in note.revisions:
        if rev.current:
            continue
        name = "amends" if rev.revision < note.revision else "amended-by"
        extensions.append(_extension(base, name, valueReference=_response_reference(base, rev.pk)))
    sections = []
    for section in note.sections:
        items = [
            {"linkId": a.item.key, "text": clean(a.prompt), "answer": answers}
            for a in section.answers
            if a.answered and (answers := typed_answers(a.item, a.value))
        ]
        if items:
            sections.append(
                {"linkId": section.key, "text": f"{section.number}. {section.title}", "item": items}
            )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "meta": {
            "tag": [_coding(note.status, note.status_label, f"{base}/CodeSystem/checklist-status")]
        },
        "extension": extensions,
        "identifier": _response_reference(base, response.pk)["identifier"],
        "questionnaire": f"{note.canonical_url}|{note.version_number}",
        "status": questionnaire_status(note),
        "subject": subject,
        "authored": fhir_datetime(note.signed_at or response.updated_at),
        "author": {"display": note.signed_by or note.started_by},
    }
    if sections:
        resource["item"] = sections
    return resource


def practitioner(note: CaseNote) -> dict[str, Any]:
    """The signer as named at signing: name, credentials (qualification) and registration
    number; a checklist signed without a profile names the username only."""
    base = canonical_base(note.canonical_url)
    signer = note.signer
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "identifier": [
            {"system": f"{base}/user", "value": str(note.response.signed_by_id)},
        ],
        "name": [{"text": clean(signer.get("name") or note.signed_by)}],
    }
    if note.registration_number:
        resource["identifier"].append(
            {"type": {"text": "Registration number"}, "value": note.registration_number}
        )
    if credentials := clean(signer.get("credentials", "")):
        resource["qualification"] = [{"code": {"text": credentials}}]
    return resource


def medication_statement(
    note: CaseNote, medicine: MedicineLine, subject, qr_url: str, author_url: str | None
) -> dict[str, Any]:
    base = canonical_base(note.canonical_url)
    concept: dict[str, Any] = {"text": medicine.as_typed}
    if medicine.substance_key:
        concept["coding"] = [
            _coding(
                medicine.substance_key,
                medicine.substance_name,
                f"{base}/CodeSystem/substance",
            )
        ]
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "status": "active",  # the list records what the patient takes
        "medicationCodeableConcept": concept,
        "subject": subject,
        "dateAsserted": fhir_datetime(note.signed_at or note.response.updated_at),
        "derivedFrom": [{"reference": qr_url}],
    }
    if dosage := " ".join(part for part in (medicine.dose, medicine.frequency) if part):
        resource["dosage"] = [{"text": dosage}]
    if author_url:
        resource["informationSource"] = {"reference": author_url}
    return resource


def implicated_medicines(flag, medicines: list[MedicineLine]) -> list[MedicineLine]:
    """The listed medicines a problem's contributors involve: the entries screening
    recorded on each contributor, as typed. Snapshots signed before screening recorded them
    name the medicines only in the contributors' `subject` ("Tramadol (opioid agonists) +
    Alprazolam (benzodiazepines)"), so those are matched by the substance's name or the
    text as entered, as whole words."""
    involved = {clean(typed).casefold() for c in flag.contributors for typed in c.medicines}
    if involved:
        return [m for m in medicines if m.as_typed.casefold() in involved]
    subjects = " | ".join(
        c.subject for c in flag.contributors if c.kind in ("medicine", "combination")
    )
    if not subjects:
        return []
    return [
        medicine
        for medicine in medicines
        if any(
            name and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", subjects, re.IGNORECASE)
            for name in (medicine.substance_name, medicine.as_typed)
        )
    ]


def detected_issue(
    note: CaseNote, line, subject, implicated: list[str], author_url: str | None = None
) -> dict[str, Any]:
    base = canonical_base(note.canonical_url)
    flag, ack = line.flag, line.acknowledgement
    issue: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "extension": [
            _extension(base, "flag-severity", valueCode=flag.severity),
            _extension(base, "flag-category", valueCode=flag.category),
        ],
        "status": ISSUE_STATUS[note.status],
        "code": {
            "coding": [_coding(flag.code, flag.title, f"{base}/CodeSystem/checklist-flag")],
            "text": flag.title,
        },
        "severity": SEVERITY[flag.severity],
        "patient": subject,
        "identifiedDateTime": fhir_datetime(note.signed_at or note.response.updated_at),
        "implicated": [{"reference": url} for url in implicated],
        "detail": _detail(flag),
    }
    if author_url:
        issue["author"] = {"reference": author_url}
    if flag.sources:
        issue["evidence"] = [{"detail": [{"display": source} for source in flag.sources]}]
    if ack is not None:
        label = ack.get_reason_display()
        text = f"{label}: {clean(ack.comment)}" if ack.comment else label
        issue["mitigation"] = [
            {
                "action": {
                    "coding": [
                        _coding(ack.reason, label, f"{base}/CodeSystem/acknowledgement-reason")
                    ],
                    "text": text,
                },
                "date": fhir_datetime(ack.acknowledged_at),
                "author": {"display": line.acknowledger},
            }
        ]
    return issue


def _detail(flag) -> str:
    """The advice, after the problem's contributors (issue 16: one DetectedIssue per problem,
    its contributors in `detail`)."""
    if len(flag.contributors) < 2:  # alone, the advice speaks for itself
        return flag.advice
    parts = "; ".join(f"{c.subject} ({c.severity_label.lower()})" for c in flag.contributors)
    return f"Contributors: {parts}.\n{flag.advice}"


def build_bundle(note: CaseNote) -> dict[str, Any]:
    """The bundle as plain JSON-ready data (validated by `render_fhir_json`)."""
    base = canonical_base(note.canonical_url)
    response = note.response
    subject = {
        "identifier": {
            "system": f"{base}/team/{response.case.team_id}/case-reference",
            "value": note.case_reference,
        },
        "display": f"Case {note.case_reference}",
    }
    qr_url = _urn(base, "checklist-response", response.pk)
    entries = [{"fullUrl": qr_url, "resource": questionnaire_response(note, subject)}]
    author_url = None
    if note.signed_at:
        author_url = _urn(base, "checklist-response", response.pk, "signer")
        entries.append({"fullUrl": author_url, "resource": practitioner(note)})
    medicine_urls = {}
    for medicine in note.medicines:
        url = _urn(base, "checklist-response", response.pk, "medicine", medicine.position)
        medicine_urls[medicine.position] = url
        entries.append(
            {
                "fullUrl": url,
                "resource": medication_statement(note, medicine, subject, qr_url, author_url),
            }
        )
    for line in note.flags:
        named = implicated_medicines(line.flag, note.medicines)
        implicated = [medicine_urls[m.position] for m in named] + [qr_url]
        entries.append(
            {
                "fullUrl": _urn(base, "checklist-response", response.pk, "flag", line.flag.code),
                "resource": detected_issue(note, line, subject, implicated, author_url),
            }
        )
    return {
        "resourceType": "Bundle",
        "identifier": {
            "system": f"{base}/checklist-export",
            "value": f"{response.pk}-{response.lock_version}",
        },
        "type": "collection",
        "timestamp": fhir_datetime(note.signed_at or response.updated_at),
        "entry": entries,
    }


def dumps(data: dict[str, Any], *, indent: int | None = 2) -> str:
    """JSON with <, > and & escaped, so the text is inert even if pasted into HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_fhir_json(note: CaseNote, *, indent: int | None = 2) -> str:
    # Imported here: the FHIR models cost ~12 MB that only FHIR exports need.
    from fhir.resources.R4B.bundle import Bundle

    bundle = build_bundle(note)
    Bundle.model_validate(bundle)  # raises pydantic.ValidationError on a malformed bundle
    return dumps(bundle, indent=indent)


def bundles_ndjson(queryset) -> Iterator[str]:
    """One bundle per line for batch work. Each response is loaded on its own (a fixed
    handful of queries per response, more for a draft, whose flags are screened afresh),
    one at a time, so memory stays flat however many there are."""
    responses = queryset.select_related(
        "case__team", "version__template", "started_by", "signed_by"
    ).order_by("pk")
    for response in responses.iterator(chunk_size=100):
        yield render_fhir_json(build_note(load_state(response)), indent=None) + "\n"
