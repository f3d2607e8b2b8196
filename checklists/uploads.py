"""Request plumbing for uploads: every request body is held to a size before Django reads a
byte of it, and multipart file names are refused instead of quietly cleaned (the
certificate checks themselves are in suppliers/certificate_pdf.py).

Size. Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count file parts, so without a cap any
multipart body, even one sent anonymously to the login page, is parsed and its file parts
spooled to disk. `RequestBodyLimitMiddleware` answers 413 first, from the declared length
alone: every request may send REQUEST_BODY_MAX_BYTES (Django keeps a body that small in
memory, file parts included), and only a clinician past the second factor, sending a
certificate, may send UPLOAD_BODY_MAX_BYTES. It uses nothing but request.META: under WSGI
Django reads only CONTENT_LENGTH bytes and ignores a chunked body without a length, so such
a body is read here up to the cap and then refused (413 past the cap, 411 below it: the
app cannot use it). Under ASGI Django reads the body before any middleware runs; this app
is served by gunicorn (WSGI).

Names. Django strips directories and control characters from uploaded file names before
the app sees them, which would quietly accept "../../x.pdf". No documented hook sees the
name as sent, so `UploadNameGuardMiddleware` gives the request a multipart parser whose
sanitize_file_name (public, not underscored) swaps such names for a marker that
check_coa_pdf refuses.
"""

from __future__ import annotations

import html
import re

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParser
from django.shortcuts import render
from django.urls import Resolver404, resolve

from .access import can_upload_certificate

UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|\.\.")
UNSAFE_NAME_MARKER = "refused-unsafe-file-name"
# The addresses that take a certificate PDF (url names).
UPLOAD_URL_NAMES = {"coa_new"}
_READ_STEP = 64 * 1024


class RequestBodyLimitMiddleware:
    """413 for a body over the cap, before anything reads it. Comes after the
    authentication middleware (the cap depends on who asks) and before any middleware or
    view that reads request.POST (CSRF does, in process_view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self._refusal(request) or self.get_response(request)

    def _refusal(self, request) -> HttpResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared:
            if not (declared.isascii() and declared.isdigit()):
                return HttpResponseBadRequest("Bad Content-Length.", content_type="text/plain")
            size = int(declared)
            if size <= settings.REQUEST_BODY_MAX_BYTES:
                return None
            fits = size <= settings.UPLOAD_BODY_MAX_BYTES and _is_upload(request)
            return None if fits else too_large(request)
        stream = request.META.get("wsgi.input")
        if stream is None or "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", ""):
            return None
        if _longer_than(stream, _limit(request)):
            return too_large(request)
        return HttpResponse(
            "Send the request with a Content-Length header.",
            status=411,
            content_type="text/plain",
        )


def _limit(request) -> int:
    if _is_upload(request):
        return settings.UPLOAD_BODY_MAX_BYTES
    return settings.REQUEST_BODY_MAX_BYTES


def _is_upload(request) -> bool:
    """A certificate sent by someone who may send one (asked only of large bodies)."""
    try:
        url_name = resolve(request.path_info).url_name
    except Resolver404:
        return False
    return url_name in UPLOAD_URL_NAMES and can_upload_certificate(request.user)


def _longer_than(stream, limit: int) -> bool:
    """Read (and drop) a body without a length until it ends or passes `limit` bytes."""
    seen = 0
    while seen <= limit:
        chunk = stream.read(min(_READ_STEP, limit + 1 - seen))
        if not chunk:
            return False
        seen += len(chunk)
    return True


def too_large(request) -> HttpResponse:
    return render(
        request,
        "413.html",
        {
            "common_mb": f"{settings.REQUEST_BODY_MAX_BYTES / (1024 * 1024):g}",
            "certificate_mb": f"{settings.COA_MAX_BYTES / (1024 * 1024):g}",
        },
        status=413,
    )


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
