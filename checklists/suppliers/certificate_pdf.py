"""What an uploaded certificate of analysis must be: a real PDF, small, with a safe name.

Every check refuses with a message a clinician can act on; the form runs them before
anything is stored.
"""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.core.exceptions import ValidationError

from ..uploads import UNSAFE_NAME, UNSAFE_NAME_MARKER

# Markup that has no business in a certificate: its presence means a polyglot file that a
# browser could be tricked into rendering as a page.
MARKUP = re.compile(rb"<\s*(html|script|!doctype|svg|body|iframe|object|embed)\b", re.I)


def check_coa_pdf(upload) -> None:
    """Raise ValidationError unless `upload` is a readable PDF of at most
    settings.COA_MAX_BYTES, without web-page markup, under a safe file name."""
    _check_name(upload.name or "")
    limit = settings.COA_MAX_BYTES
    too_big = f"The file is larger than {limit // (1024 * 1024)} MB."
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    if upload.size > limit:
        raise ValidationError(too_big)
    upload.seek(0)
    content = upload.read(limit + 1)
    upload.seek(0)
    if len(content) > limit:
        raise ValidationError(too_big)
    if not content.startswith(b"%PDF-"):
        raise ValidationError(
            "This is not a PDF: its content does not start like one, whatever its name says."
        )
    if MARKUP.search(content):
        raise ValidationError(
            "This file mixes PDF with web-page markup and was refused. "
            "Ask the lab for the original certificate."
        )
    if _page_count(content) < 1:
        raise ValidationError("The PDF could not be read. Ask the lab for a fresh copy.")


def _check_name(name: str) -> None:
    if name == UNSAFE_NAME_MARKER or UNSAFE_NAME.search(name) or len(name) > 200:
        raise ValidationError(
            "The file name contains path parts or control characters. "
            "Rename the file (letters, digits, spaces) and upload it again."
        )
    if not name.lower().endswith(".pdf"):
        raise ValidationError("Upload the certificate as a PDF file (.pdf).")


def _page_count(content: bytes) -> int:
    from pypdf import PdfReader

    try:
        return len(PdfReader(io.BytesIO(content), strict=False).pages)
    except Exception:  # any parser failure on untrusted bytes means "unreadable"
        return 0
