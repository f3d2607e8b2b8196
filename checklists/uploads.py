"""Request plumbing for uploaded files: multipart bodies parsed so that an unsafe file name
is refused instead of quietly cleaned (the certificate checks themselves are in
suppliers/certificate_pdf.py).
"""

from __future__ import annotations

import html
import re

from django.http.multipartparser import MultiPartParser

UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|\.\.")

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
