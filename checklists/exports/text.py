"""The plain-text case note, made for pasting into an EHR's free-text field.

Plain lines, no markup, no tabs (EHR text boxes render them unpredictably); a draft says
DRAFT on its first and last line so a pasted excerpt cannot pass for a signed record.

A clinician reads it from the top (issue 19): the summary comes first (the problems with
their severity and how each was acknowledged, the advice, the plan and monitoring, the
follow-up, who to call, who signed), then every answer, then each problem in full.
"""

from __future__ import annotations

from .document import CaseNote, FlagLine, clean, utc

DRAFT_BANNER = "*** DRAFT: NOT SIGNED. NOT A FINAL RECORD. ***"


def _answer(lines: list[str], prompt: str) -> list[str]:
    if len(lines) == 1:
        return [f"- {prompt}: {lines[0]}"]
    return [f"- {prompt}:"] + [f"    {line}" for line in lines]


def _acknowledgement(note: CaseNote, line: FlagLine, *, full: bool) -> list[str]:
    ack = line.acknowledgement
    if ack is None:
        if line.awaiting:
            return ["  Not yet acknowledged (required before signing)."]
        return []
    comment = f' Comment: "{clean(ack.comment)}"' if ack.comment else ""
    if not full:
        return [f"  Acknowledged: {ack.get_reason_display()}.{comment}"]
    return [
        f"  Acknowledged by {line.acknowledger} on "
        f"{utc(ack.acknowledged_at)}: {ack.get_reason_display()}.{comment}"
    ]


def signature_line(note: CaseNote) -> str:
    if not note.signed_at:
        return "Not signed."
    return f"Signed by {note.signed_by} on {utc(note.signed_at)}"


def summary_lines(note: CaseNote) -> list[str]:
    out = ["", "== Summary ==", f"Problems ({note.flag_count}):"]
    if not note.flags:
        out.append("- None raised.")
    for line in note.flags:
        out.append(f"- [{line.flag.severity_label}] {line.flag.title}")
        out += _acknowledgement(note, line, full=False)
    for answer in note.summary:
        out += _answer(answer.summary_lines, answer.label)
    out.append(signature_line(note))
    return out


def _caution_lines(note: CaseNote) -> list[str]:
    out = ["", f"== Cautions in full ({note.flag_count}) =="]
    if not note.flags:
        out.append("None raised.")
    for line in note.flags:
        flag = line.flag
        out.append(f"- [{flag.severity_label}] {flag.title}")
        if len(flag.contributors) > 1:  # a problem names what contributes to it (issue 16)
            out += [
                f"  Contributor: [{part.severity_label}] {part.heading}"
                for part in flag.contributors
            ]
        out.append(f"  Advice: {flag.advice}")
        if flag.sources:
            out.append(f"  Sources: {'; '.join(flag.sources)}")
        out += _acknowledgement(note, line, full=True)
    return out


def render_text(note: CaseNote) -> str:
    out: list[str] = []
    if note.is_draft:
        out.append(DRAFT_BANNER)
    out += [
        f"{note.template_title}: case note",
        f"Case reference: {note.case_reference} (team {note.team})",
        f"Checklist version {note.version_number}, content hash {note.content_hash}",
        f"Status: {note.status_label}, revision {note.revision}",
        f"Started {utc(note.started_at)} by {note.started_by}",
    ]
    out += summary_lines(note)
    for section in note.sections:
        out += ["", f"== {section.number}. {section.title} =="]
        for answer in section.answers:
            out += _answer(answer.lines, answer.prompt)
    out += _caution_lines(note)

    out += ["", "== Signature ==", signature_line(note)]
    if note.signed_at and note.registration_number:
        out.append(f"Registration number: {note.registration_number}")
    if note.signed_at and note.attestation:
        out.append(f'Attestation: "{note.attestation}"')

    if note.revisions:
        out += ["", "== Revisions =="]
        for rev in note.revisions:
            signed = f", signed {utc(rev.signed_at)} by {rev.signed_by}" if rev.signed_at else ""
            if rev.superseded_at:
                signed += f", superseded {utc(rev.superseded_at)} when the amendment was signed"
            this = " (this note)" if rev.current else ""
            out.append(f"- Revision {rev.revision}, checklist {rev.pk}{this}: {rev.status}{signed}")
            if rev.amend_reason:
                out.append(f"  Reason for amendment: {rev.amend_reason}")
    if note.is_draft:
        out += ["", DRAFT_BANNER]
    return "\n".join(out) + "\n"
