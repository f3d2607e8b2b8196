"""Checks on uploaded certificates of analysis: a real PDF, small, with a safe name.

Every check refuses with a message a clinician can act on; nothing is stored until all
of them pass.
"""

from __future__ import annotations

import hashlib
import html
import io
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http.multipartparser import MultiPartParser

# Markup that has no business in a certificate: its presence means a polyglot file that a
# browser could be tricked into rendering as a page.
MARKUP = re.compile(rb"<\s*(html|script|!doctype|svg|body|iframe|object|embed)\b", re.I)
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|\.\.")


def check_coa_pdf(upload) -> str:
    """Validate an uploaded COA; returns its SHA-256 hex digest."""
    name = upload.name or ""
    if name == UNSAFE_NAME_MARKER or UNSAFE_NAME.search(name) or len(name) > 200:
        raise ValidationError(
            "The file name contains path parts or control characters. "
            "Rename the file (letters, digits, spaces) and upload it again."
        )
    if not name.lower().endswith(".pdf"):
        raise ValidationError("Upload the certificate as a PDF file (.pdf).")
    if upload.size == 0:
        raise ValidationError("The file is empty.")
    limit = settings.COA_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB.")
    upload.seek(0)
    content = upload.read(limit + 1)
    upload.seek(0)
    if len(content) > limit:
        raise ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB.")
    if not content.startswith(b"%PDF-"):
        raise ValidationError(
            "This is not a PDF: its content does not start like one, whatever its name says."
        )
    if MARKUP.search(content):
        raise ValidationError(
            "This file mixes PDF with web-page markup and was refused. "
            "Ask the lab for the original certificate."
        )
    from pypdf import PdfReader

    try:
        pages = len(PdfReader(io.BytesIO(content), strict=False).pages)
    except Exception:  # any parser failure on untrusted bytes means "unreadable"
        pages = 0
    if pages < 1:
        raise ValidationError("The PDF could not be read. Ask the lab for a fresh copy.")
    return hashlib.sha256(content).hexdigest()


# Django strips directories and control characters from uploaded file names before the
# app sees them, which would quietly accept "../../x.pdf". The parser below refuses such
# names instead: it replaces them with a marker that check_coa_pdf rejects.
UNSAFE_NAME_MARKER = "refused-unsafe-file-name"


class StrictNameMultiPartParser(MultiPartParser):
    def sanitize_file_name(self, file_name):
        if file_name and UNSAFE_NAME.search(html.unescape(file_name)):
            return UNSAFE_NAME_MARKER
        return super().sanitize_file_name(file_name)


class UploadNameGuardMiddleware:
    """Parses multipart bodies with StrictNameMultiPartParser. Must come before any
    middleware that reads request.POST (CSRF does)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def parse_file_upload(meta, post_data):
            parser = StrictNameMultiPartParser(
                meta, post_data, request.upload_handlers, request.encoding
            )
            return parser.parse()

        request.parse_file_upload = parse_file_upload
        return self.get_response(request)
