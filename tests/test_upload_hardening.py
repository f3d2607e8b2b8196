"""Uploads an intruder would send: certificates that act (scripts, actions, files inside,
markup around them), one that inflates to 400 MB, and bodies far over the cap, to the login
page and to the certificate upload, with and without a length.

Each refused certificate is a 400 with the reason in words, one COA_REFUSED event with its
code, no certificate row and no stored file; each oversized body a 413 before Django reads
a byte of it. The PDFs are written here byte by byte (the attack needs exact bytes); the
clean ones come from WeasyPrint and pypdf, as real certificates would.
"""

from __future__ import annotations

import binascii
import io
import time
import tracemalloc
import zlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from checklists.models import AuditEvent, CertificateOfAnalysis, Lot
from checklists.suppliers.lots import create_lot

from .conftest import HttpsClient, login

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
BOUNDARY = "----upload-hardening-boundary"


# --- PDFs, byte by byte ------------------------------------------------------------------


def pdf(*objects: bytes, catalog: bytes = b"", page: bytes = b"", tail: bytes = b"") -> bytes:
    """A one-page PDF whose cross-reference table pypdf reads: objects 1-3 are the catalog,
    the page tree and the page; `objects` are numbered from 4; `tail` follows %%EOF."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page + b">>",
        *objects,
    ]
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        start,
    )
    return bytes(out) + tail


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), entries, data)


def object_stream(first: int, body: bytes, *, times: int = 1) -> bytes:
    """An object stream holding one object (number `first`), Flate-compressed `times`
    over: what it holds is nowhere in the file's own bytes."""
    data = b"%d 0 " % first + body
    for _ in range(times):
        data = zlib.compress(data)
    filters = b"[" + b"/FlateDecode " * times + b"]"
    return stream(
        data, b"/Type /ObjStm /N 1 /First %d /Filter %s " % (len(b"%d 0 " % first), filters)
    )


def bomb(size: int = 400 * MB) -> bytes:
    """zlib data inflating to `size` zero bytes, about 1/1000 of that: one megabyte of
    zeros compressed once, repeated (each block starts afresh after a full flush)."""
    compressor, block = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(MB)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(block) + compressor.flush()
    adler32 = ((size % 65521) << 16) | 1  # of `size` zeros
    return b"\x78\xda" + again * (size // MB - 1) + last + adler32.to_bytes(4, "big")


def weasyprint_certificate() -> bytes:
    from weasyprint import HTML

    return HTML(
        string="<h1>Certificate of analysis</h1><p>Leafy Co, lot K-100, tested 2026-06-01.</p>"
        "<table><tr><th>Analyte</th><th>Result</th></tr><tr><td>Lead</td><td>0.2 ppm</td></tr>"
        "<tr><td>Salmonella</td><td>Absent</td></tr></table>"
    ).write_pdf()


def pypdf_certificate() -> bytes:
    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=200, height=200)
    writer.write(buffer)
    return buffer.getvalue()


JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


# --- Posting a certificate ---------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def lot(team, clinician):
    return create_lot(
        user=clinician,
        team=team,
        supplier="Leafy Co",
        product="Green Maeng Da",
        substance="kratom",
        form="leaf_powder",
        labelled_amount_mg=None,
        lot_number="K-100",
    )


def post_certificate(client, lot, content: bytes, name: str = "coa.pdf"):
    return client.post(
        reverse("coa_new", args=[lot.pk]),
        {
            "lab_name": "Acme Labs",
            "accreditation_id": "17025-123",
            "tested_on": "2026-06-01",
            "coa_lot_number": "K-100",
            "pdf": SimpleUploadedFile(name, content, "application/pdf"),
        },
    )


def assert_refused(answer, lot, media, reason: str, words: str) -> None:
    """400 with the reason in words; one audit event with its code; nothing stored."""
    assert answer.status_code == 400
    assert words in answer.content.decode()
    event = AuditEvent.objects.get(action=AuditEvent.Action.COA_REFUSED)
    assert event.detail["reason"] == reason and event.detail["lot"] == lot.pk
    assert event.object_id == str(lot.pk) and event.username == "clinician"
    assert not CertificateOfAnalysis.objects.exists()
    assert list(Lot.objects.all()) == [lot]
    assert not media.exists() or not any(media.rglob("*"))


# --- Certificates that act ---------------------------------------------------------------


@pytest.mark.parametrize("make", [weasyprint_certificate, pypdf_certificate])
def test_a_clean_certificate_is_still_accepted(clinician_client, lot, media, make):
    """Not an attack: the guard against refusing what labs really send."""
    answer = post_certificate(clinician_client, lot, make())
    assert answer.status_code == 302
    assert CertificateOfAnalysis.objects.get().pdf.name.startswith("coa/")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.COA_REFUSED).exists()


def test_coa_with_openaction_javascript_refused(clinician_client, lot, media):
    content = pdf(JS_ACTION, catalog=b"/OpenAction 4 0 R ")
    answer = post_certificate(clinician_client, lot, content)
    assert_refused(answer, lot, media, "open_action", "runs an action as soon as it is opened")


@pytest.mark.parametrize(
    "obfuscated,reason",
    [
        (b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>", "javascript"),
        (b"<< /S /#4a#61#76#61#53#63#72#69#70#74 /JS (x) >>", "javascript"),
        (b"<< /Type /Action /J#53 4 0 R >>", "javascript"),
    ],
    ids=["one-letter", "every-letter", "script-key-only"],
)
def test_coa_with_hex_escaped_javascript_name_refused(
    clinician_client, lot, media, obfuscated, reason
):
    answer = post_certificate(clinician_client, lot, pdf(obfuscated, page=b"/Annots [4 0 R] "))
    assert_refused(answer, lot, media, reason, "Ask the lab for a plain copy")


@pytest.mark.parametrize("times", [1, 2], ids=["compressed", "compressed-twice"])
def test_coa_with_javascript_only_in_an_object_stream_refused(clinician_client, lot, media, times):
    content = pdf(object_stream(5, JS_ACTION, times=times), page=b"/Annots [5 0 R] ")
    assert b"JavaScript" not in content
    answer = post_certificate(clinician_client, lot, content)
    assert_refused(answer, lot, media, "javascript", "contains JavaScript")


ACTING = {
    "page-open-action": (
        pdf(b"<< /S /URI /URI (https://evil.example/) >>", page=b"/AA << /O 4 0 R >> "),
        "additional_actions",
        "runs actions of its own",
    ),
    "launch-link": (
        pdf(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /L#61unch /F (x) >> >>",
            page=b"/Annots [4 0 R] ",
        ),
        "launch",
        "tries to start another program",
    ),
}


@pytest.mark.parametrize("content,reason,words", ACTING.values(), ids=ACTING.keys())
def test_coa_with_additional_actions_or_launch_refused(
    clinician_client, lot, media, content, reason, words
):
    answer = post_certificate(clinician_client, lot, content)
    assert_refused(answer, lot, media, reason, words)


EMBEDDED = {
    "name-tree": pdf(
        b"<< /Type /Filespec /F (run.exe) /EF << /F 5 0 R >> >>",
        stream(b"MZ payload", b"/Type /EmbeddedFile "),
        catalog=b"/Names << /EmbeddedFiles << /Names [(run.exe) 4 0 R] >> >> ",
    ),
    "attachment-note": pdf(
        b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (run.exe) >>",
        page=b"/Annots [4 0 R] ",
    ),
}


@pytest.mark.parametrize("content", EMBEDDED.values(), ids=EMBEDDED.keys())
def test_coa_with_embedded_file_refused(clinician_client, lot, media, content):
    answer = post_certificate(clinician_client, lot, content)
    assert_refused(answer, lot, media, "embedded_file", "carries other files inside it")


MARKUP = {
    "script": b"<script>alert(document.cookie)</script>",
    "meta-refresh": b'<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "xml-stylesheet": b'<?xml-stylesheet type="text/xsl" href="https://evil.example/x.xsl"?>',
    "utf-16-script": "\ufeff<script>alert(1)</script>".encode("utf-16-le"),
    "utf-16be-script": "<html><body onload=alert(1)>".encode("utf-16-be"),
}


@pytest.mark.parametrize("markup", MARKUP.values(), ids=MARKUP.keys())
def test_coa_with_appended_markup_refused(clinician_client, lot, media, markup):
    answer = post_certificate(clinician_client, lot, pdf(tail=markup))
    assert_refused(answer, lot, media, "markup", "web-page markup")


HIDDEN = {
    # The script, hex-encoded in an object stream: no zlib to inflate, so refused by name.
    "ascii-hex-object-stream": (
        pdf(
            stream(
                binascii.hexlify(b"5 0 " + JS_ACTION) + b">",
                b"/Type /ObjStm /N 1 /First 4 /Filter /AHx ",
            )
        ),
        "unreadable_encoding",
    ),
    "indirect-filter": (
        pdf(stream(b"5 0 " + JS_ACTION, b"/Type /ObjStm /N 1 /First 4 /Filter 6 0 R ")),
        "unreadable_encoding",
    ),
    "encrypted": (pdf(tail=b"trailer\n<< /Encrypt << /Filter /Standard >> >>\n"), "encrypted"),
}


@pytest.mark.parametrize("content,reason", HIDDEN.values(), ids=HIDDEN.keys())
def test_coa_whose_content_cannot_be_checked_refused(clinician_client, lot, media, content, reason):
    answer = post_certificate(clinician_client, lot, content)
    assert_refused(answer, lot, media, reason, "Ask the lab for a plain copy")


def test_decompression_bomb_refused_without_inflating(clinician_client, lot, media):
    content = pdf(stream(bomb(), b"/Filter /FlateDecode "), page=b"/Contents 4 0 R ")
    assert len(content) < 500 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        answer = post_certificate(clinician_client, lot, content)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_refused(answer, lot, media, "inflates_too_much", "unpacks to more than 20 MB")
    # 400 MB inflated would take seconds and 400 MB; the scan stops a step past 20 MB.
    assert peak < 80 * MB, peak
    assert elapsed < 10, elapsed


# --- Bodies over the cap -----------------------------------------------------------------


class Body(io.RawIOBase):
    """A multipart body made as it is read (50 MB are never held in memory), counting what
    the server reads of it."""

    def __init__(self, size: int, fields: dict[str, str]):
        super().__init__()
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="pdf"; filename="big.pdf"'
            "\r\nContent-Type: application/pdf\r\n\r\n"
        )
        self.head, self.tail = head.encode(), f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(self.head) + size + len(self.tail)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        start = self.read_bytes
        end = min(start + len(buffer), self.length)
        zeros_from, zeros_to = len(self.head), self.length - len(self.tail)
        data = (
            self.head[start:end]
            + bytes(max(0, min(end, zeros_to) - max(start, zeros_from)))
            + self.tail[max(0, start - zeros_to) : max(0, end - zeros_to)]
        )
        buffer[: len(data)] = data
        self.read_bytes = end
        return len(data)


def send(client, url: str, body: Body, *, chunked: bool = False):
    """POST `body` as an intruder's script would: with an Origin of the site's own and a
    CSRF cookie of its choosing, so that the CSRF check reads the form for its token."""
    client.cookies[settings.CSRF_COOKIE_NAME] = "x" * 32
    length = (
        {"HTTP_TRANSFER_ENCODING": "chunked"} if chunked else {"CONTENT_LENGTH": str(body.length)}
    )
    return client.generic(
        "POST",
        url,
        b"",
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
        HTTP_ORIGIN="https://testserver",
        **length,
        **{"wsgi.input": body},
    )


@pytest.fixture
def spool(settings, tmp_path):
    """Where Django would write an upload too large for memory."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    return tmp_path / "spool"


TARGETS = {
    "login, anonymous": ("login", None),
    "certificate, anonymous": ("coa_new", None),
    "certificate, clinician": ("coa_new", True),
    "certificate, clinician before the second factor": ("coa_new", False),
}
FIELDS = {"username": "clinician", "password": "x", "lab_name": "Acme Labs"}


@pytest.fixture(params=TARGETS.values(), ids=TARGETS.keys())
def target(request, lot, clinician):
    """(client, url): CSRF checked as in production, where the check itself reads the body."""
    page, second_factor = request.param
    client = HttpsClient(enforce_csrf_checks=True)
    if second_factor is not None:
        login(client, clinician, second_factor=second_factor)
    return client, reverse(page, args=[lot.pk] if page == "coa_new" else [])


def test_50mb_multipart_refused_before_spooling(target, spool, media):
    client, url = target
    body = Body(50 * MB, FIELDS)
    answer = send(client, url, body)
    assert body.read_bytes == 0  # before: read whole, the part spooled into `spool`
    assert not any(spool.iterdir())
    assert answer.status_code == 413
    assert "That request is too large" in answer.content.decode()
    assert not CertificateOfAnalysis.objects.exists()


def test_chunked_body_over_limit_refused(target, spool, media):
    client, url = target
    body = Body(50 * MB, FIELDS)
    answer = send(client, url, body, chunked=True)
    assert answer.status_code == 413
    assert body.read_bytes <= settings.UPLOAD_BODY_MAX_BYTES + 1  # read to the cap, dropped
    assert not any(spool.iterdir())


def test_a_small_chunked_body_is_asked_for_its_length(client, spool):
    body = Body(1000, FIELDS)
    answer = send(client, reverse("login"), body, chunked=True)
    assert answer.status_code == 411
    assert body.read_bytes == body.length


def test_a_certificate_near_the_limit_still_goes_through(clinician_client, lot, media):
    """The cap leaves room for the largest certificate a clinician may send: a 9 MB scan."""
    scan = stream(b"\xff\xd8" + bytes(9 * MB), b"/Subtype /Image /Filter /DCTDecode ")
    answer = post_certificate(clinician_client, lot, pdf(scan))
    assert answer.status_code == 302
    assert CertificateOfAnalysis.objects.get().pdf.size > 9 * MB
