"""The plain-text case note, made for pasting into an EHR's free-text field.

Plain lines, no markup, no tabs (EHR text boxes render them unpredictably); a draft says
DRAFT on its first and last line so a pasted excerpt cannot pass for a signed record.
"""

from __future__ import annotations

from .document import CaseNote, clean, utc

DRAFT_BANNER = "*** DRAFT: NOT SIGNED. NOT A FINAL RECORD. ***"


def _answer(lines: list[str], prompt: str) -> list[str]:
    if len(lines) == 1:
        return [f"- {prompt}: {lines[0]}"]
    return [f"- {prompt}:"] + [f"    {line}" for line in lines]


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
    for section in note.sections:
        out += ["", f"== {section.number}. {section.title} =="]
        for answer in section.answers:
            out += _answer(answer.lines, answer.prompt)

    out += ["", f"== Cautions ({note.flag_count}) =="]
    if not note.flags:
        out.append("None raised.")
    for line in note.flags:
        flag, ack = line.flag, line.acknowledgement
        out.append(f"- [{flag.severity_label}] {flag.title}")
        if len(flag.contributors) > 1:  # a problem names what contributes to it (issue 16)
            out += [
                f"  Contributor: [{part.severity_label}] {part.title} ({part.subject})"
                for part in flag.contributors
            ]
        out.append(f"  Advice: {flag.advice}")
        if flag.sources:
            out.append(f"  Sources: {'; '.join(flag.sources)}")
        if ack is not None:
            comment = f' Comment: "{clean(ack.comment)}"' if ack.comment else ""
            out.append(
                f"  Acknowledged by {ack.acknowledged_by.get_username()} on "
                f"{utc(ack.acknowledged_at)}: {ack.get_reason_display()}.{comment}"
            )
        elif flag.needs_acknowledgement and note.is_draft:
            out.append("  Not yet acknowledged (required before signing).")

    out += ["", "== Signature =="]
    if note.signed_at:
        out.append(f"Signed by {note.signed_by} on {utc(note.signed_at)}")
        if note.attestation:
            out.append(f'Attestation: "{note.attestation}"')
    else:
        out.append("Not signed.")

    if note.revisions:
        out += ["", "== Revisions =="]
        for rev in note.revisions:
            signed = f", signed {utc(rev.signed_at)} by {rev.signed_by}" if rev.signed_at else ""
            this = " (this note)" if rev.current else ""
            out.append(f"- Revision {rev.revision}, checklist {rev.pk}{this}: {rev.status}{signed}")
            if rev.amend_reason:
                out.append(f"  Reason for amendment: {rev.amend_reason}")
    if note.is_draft:
        out += ["", DRAFT_BANNER]
    return "\n".join(out) + "\n"
