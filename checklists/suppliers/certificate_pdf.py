"""What an uploaded certificate of analysis must be: a real PDF, small, with a safe name,
carrying nothing but pages (pdf_scan.py says how that is checked, and why that way).

Every check refuses with a message a clinician can act on and a code the audit trail keeps
(COAForm.refused_pdf_reason); the form runs them before anything is stored.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.exceptions import ValidationError

from ..uploads import UNSAFE_NAME, UNSAFE_NAME_MARKER
from .pdf_scan import INFLATE_CAP, PdfRefused, scan_pdf

ASK_THE_LAB = "Nothing was saved. Ask the lab for a plain copy of the certificate."
REFUSALS = {
    "javascript": "This PDF contains JavaScript, which a certificate never needs.",
    "open_action": "This PDF runs an action as soon as it is opened.",
    "additional_actions": "This PDF runs actions of its own (when a page or field is used).",
    "launch": "This PDF tries to start another program.",
    "embedded_file": "This PDF carries other files inside it.",
    "other_action": "This PDF holds media, a form that sends data, or links that open other files.",
    "encrypted": "This PDF is protected (encrypted), so what it holds cannot be checked.",
    "unreadable_encoding": "This PDF uses an old or unusual encoding that cannot be checked.",
    "inflates_too_much": "This PDF unpacks to more than "
    f"{INFLATE_CAP // (1024 * 1024)} MB, far more than a certificate.",
    "too_many_parts": "This PDF has far more parts than a certificate.",
    "markup": "This file mixes PDF with web-page markup and was refused.",
}


def check_coa_pdf(upload) -> None:
    """Raise ValidationError unless `upload` is a readable PDF of at most
    settings.COA_MAX_BYTES, with nothing but pages in it, under a safe file name."""
    _check_name(upload.name or "")
    limit = settings.COA_MAX_BYTES
    too_big = f"The file is larger than {limit // (1024 * 1024)} MB."
    if upload.size == 0:
        raise ValidationError("The file is empty.", code="empty")
    if upload.size > limit:
        raise ValidationError(too_big, code="too_large")
    upload.seek(0)
    content = upload.read(limit + 1)
    upload.seek(0)
    if len(content) > limit:
        raise ValidationError(too_big, code="too_large")
    if not content.startswith(b"%PDF-"):
        raise ValidationError(
            "This is not a PDF: its content does not start like one, whatever its name says.",
            code="not_pdf",
        )
    try:
        scan_pdf(content)
    except PdfRefused as refused:
        raise ValidationError(
            f"{REFUSALS[refused.reason]} {ASK_THE_LAB}", code=refused.reason
        ) from None
    # Only now, with the content known to inflate within the cap, does pypdf read it.
    if _page_count(content) < 1:
        raise ValidationError(
            "The PDF could not be read. Ask the lab for a fresh copy.", code="unreadable"
        )


def _check_name(name: str) -> None:
    if name == UNSAFE_NAME_MARKER or UNSAFE_NAME.search(name) or len(name) > 200:
        raise ValidationError(
            "The file name contains path parts or control characters. "
            "Rename the file (letters, digits, spaces) and upload it again.",
            code="unsafe_name",
        )
    if not name.lower().endswith(".pdf"):
        raise ValidationError("Upload the certificate as a PDF file (.pdf).", code="not_pdf_name")


def _page_count(content: bytes) -> int:
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(content), strict=False).pages)
    except Exception:  # any parser failure on untrusted bytes means "unreadable"
        return 0
