"""What an uploaded PDF carries besides pages: actions, scripts, files and web-page markup,
found in its bytes and in every compressed stream, inflated under a fixed cap.

Why a scan of the bytes and not pypdf alone (pypdf is a dependency, and still confirms
afterwards that the file has pages): pypdf reads the objects its cross-reference table
reaches, while viewers repair broken files by scanning for objects, so a script in an
unreferenced object or behind a damaged table can reach a lenient viewer without pypdf
ever seeing it; pypdf's inflate limits are per stream and module-wide, not a total for one
upload; and markup is not PDF structure at all. The scan reads every byte instead:

- Every dictionary a viewer acts on is in the file's bytes or in an object stream, and
  every writer compresses object streams with Flate. So the bytes are scanned, then each
  stream that starts like zlib data is inflated (zlib finds its own end, whatever /Length
  says) and scanned too, twice-compressed ones included. The inflating stops as soon as
  the whole upload passes INFLATE_CAP: a bomb is never inflated into memory.
- Any other general-purpose encoding (ASCIIHex, ASCII85, LZW, RunLength, a crypt filter),
  an indirect /Filter, and encryption are refused by name: what hides behind them is
  refused rather than missed. Image codecs are allowed (scanned as they are).
- Names are compared after their #xx escapes are decoded (/J#61vaScript is /JavaScript),
  exactly, as viewers compare them. Short names (/JS, /AA, /XFA) count only as keys with a
  value, in the file's bytes or in inflated data that starts like an object stream, so
  that random bytes of an image are not taken for them.
- Markup is what a browser could render from the file as it is, so it is searched in the
  bytes (not in inflated text, where a document may quote "<object>"), after removing NUL
  bytes, which also finds UTF-16 and UTF-32 text. A form's own scripts (XFA) are refused
  by their /XFA key.

Knowingly left open: an object stream encoded as an image (DCT, JPX, JBIG2, CCITT), which
no writer makes. Knowingly refused: the word /JavaScript in a document's own text, and an
/OpenAction that only sets the first page's view (pdfTeX's hyperref writes one), like the
ones that run a script.
"""

from __future__ import annotations

import re
import zlib

INFLATE_CAP = 20 * 1024 * 1024  # inflated bytes per upload, all streams together
MAX_STREAMS = 10_000  # compressed streams per upload (a certificate has a few hundred)
MAX_LAYERS = 3  # Flate inside Flate inside Flate; deeper is refused
_STEP = 256 * 1024  # bytes fed to, and taken from, zlib at a time


class PdfRefused(Exception):
    """The PDF holds something a certificate never needs; `reason` says what."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# Names (after #xx decoding) and why each is refused.
REFUSED_NAMES = {
    b"JavaScript": "javascript",
    b"OpenAction": "open_action",
    b"Launch": "launch",
    b"EmbeddedFiles": "embedded_file",
    b"EmbeddedFile": "embedded_file",
    b"FileAttachment": "embedded_file",
    b"RichMedia": "other_action",
    b"GoToR": "other_action",
    b"GoToE": "other_action",
    b"SubmitForm": "other_action",
    b"ImportData": "other_action",
    b"Encrypt": "encrypted",
}
KEYS_WITH_VALUE = {b"JS": "javascript", b"AA": "additional_actions", b"XFA": "other_action"}
# Stream encodings this scan does not undo (names a viewer treats as unknown pass the bytes
# through unchanged, so they hide nothing; a signature's /Filter /Adobe.PPKLite is one).
UNREAD_FILTERS = {
    b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85", b"LZWDecode", b"LZW",
    b"RunLengthDecode", b"RL", b"Crypt",
}  # fmt: skip
IMAGE_FILTERS = {b"DCTDecode", b"DCT", b"JPXDecode", b"JBIG2Decode", b"CCITTFaxDecode", b"CCF"}
DELIMITER_BYTES = b"\x00\t\n\x0c\r ()<>[]{}/%"

_WS = rb"\x00\t\n\x0c\r "
_DELIMITERS = _WS + rb"()<>\[\]{}/%"
NAME = re.compile(rb"/([^" + _DELIMITERS + rb"]*)")
HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# A value after a short key: a string, a dictionary, an array, a reference.
VALUE_AFTER = re.compile(rb"[" + _WS + rb"]*(?:\(|<|\[|\d+[" + _WS + rb"]+\d+[" + _WS + rb"]+R)")
FILTER_VALUE = re.compile(rb"[" + _WS + rb"]*(\[[^\]]{0,1024}\]|/[^" + _DELIMITERS + rb"]*|\d)")
# What a viewer reads first in an object stream: two numbers (comments and space allowed).
_SKIP = rb"(?:[" + _WS + rb"]|%[^\r\n]*)"
OBJECT_STREAM_START = re.compile(_SKIP + rb"*[-+.0-9]+" + _SKIP + rb"+[-+.0-9]")
# Where a stream's data may start: right after the keyword, after spaces, or after the end
# of the line (viewers differ); each place that starts like zlib data is inflated.
STREAM_DATA_SPACES = re.compile(rb"[ \t\x00\x0c]+")
STREAM_DATA_LINE = re.compile(rb"[^\r\n]{0,64}(?:\r\n|\r|\n)")
MARKUP = re.compile(
    rb"<\s*(?:html|script|!doctype|svg|body|iframe|object|embed)\b"
    rb"|<\s*meta\b[^>]{0,512}?http-equiv"
    rb"|<\?\s*xml-stylesheet",
    re.I,
)


def scan_pdf(content: bytes) -> None:
    """Raise PdfRefused unless `content` is free of actions, scripts, embedded files,
    unreadable encodings and markup, and inflates to at most INFLATE_CAP bytes."""
    if MARKUP.search(content.replace(b"\x00", b"")):
        raise PdfRefused("markup")
    _scan_names(content, structured=True)
    budget = INFLATE_CAP
    view = memoryview(content)
    inflated = 0
    for keyword_end in _stream_keywords(content):
        for start in _data_starts(content, keyword_end):
            if not _zlib_header(view, start):
                continue
            inflated += 1
            if inflated > MAX_STREAMS:
                raise PdfRefused("too_many_parts")
            budget = _scan_stream(view, start, budget)


def _stream_keywords(content: bytes):
    """Where each `stream` keyword ends (not `endstream`, not inside a longer word)."""
    at = content.find(b"stream")
    while at != -1:
        if not content[at - 1 : at].isalpha():
            yield at + len(b"stream")
        at = content.find(b"stream", at + 1)


def _data_starts(content: bytes, keyword_end: int) -> set[int]:
    starts = {keyword_end}
    for pattern in (STREAM_DATA_SPACES, STREAM_DATA_LINE):
        found = pattern.match(content, keyword_end)
        if found:
            starts.add(found.end())
    return starts


def _scan_stream(view: memoryview, start: int, budget: int) -> int:
    """Inflate the stream at `start` (and a stream inside it) and scan what comes out;
    return what is left of the budget."""
    data, offset = view, start
    for _layer in range(MAX_LAYERS):
        output = _inflate(data, offset, budget)
        budget -= len(output)
        _scan_names(output, structured=OBJECT_STREAM_START.match(output, 0, 4096) is not None)
        if not _zlib_header(memoryview(output), 0):
            return budget
        data, offset = memoryview(output), 0
    raise PdfRefused("unreadable_encoding")


def _zlib_header(view: memoryview, at: int) -> bool:
    if len(view) < at + 2:
        return False
    first, second = view[at], view[at + 1]
    return first & 0x0F == 8 and first >> 4 <= 7 and ((first << 8) | second) % 31 == 0


def _inflate(view: memoryview, start: int, budget: int) -> bytes:
    """The zlib data at `start`, inflated up to its end, a damaged part or the budget
    (past which the upload is refused). At most _STEP bytes of output are asked for at a
    time, so a bomb stops a step past the cap; after a damaged part, what came before it is
    kept (viewers show it too)."""
    inflater, parts, produced, position, pending = zlib.decompressobj(), [], 0, start, b""
    while not inflater.eof:
        if not pending and position < len(view):
            pending, position = view[position : position + _STEP], position + _STEP
        before = inflater.copy()
        try:
            chunk = inflater.decompress(pending, _STEP)
        except zlib.error:
            parts.append(_until_damage(before, pending, budget - produced))
            break
        pending = inflater.unconsumed_tail
        produced += len(chunk)
        if produced > budget:
            raise PdfRefused("inflates_too_much")
        parts.append(chunk)
        if not chunk and not pending and position >= len(view):
            break
    output = b"".join(parts)
    if len(output) > budget:
        raise PdfRefused("inflates_too_much")
    return output


def _until_damage(inflater, pending, budget: int) -> bytes:
    """What `inflater` gives from `pending` byte by byte, up to the damaged byte (one byte
    of input inflates to a few kilobytes at most, so the budget is kept to closely)."""
    parts, produced = [], 0
    for index in range(len(pending)):
        try:
            chunk = inflater.decompress(pending[index : index + 1])
        except zlib.error:
            break
        produced += len(chunk)
        if produced > budget:
            raise PdfRefused("inflates_too_much")
        parts.append(chunk)
    return b"".join(parts)


def _scan_names(data: bytes, *, structured: bool) -> None:
    for match in NAME.finditer(data):
        name = _normalise(match.group(1))
        if name in REFUSED_NAMES:
            raise PdfRefused(REFUSED_NAMES[name])
        if not structured:
            continue
        if name in KEYS_WITH_VALUE and _is_key(data, match):
            raise PdfRefused(KEYS_WITH_VALUE[name])
        if name == b"Filter":
            _check_filter(data, match.end())


def _normalise(name: bytes) -> bytes:
    if b"#" not in name:
        return name
    return HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)


def _is_key(data: bytes, match: re.Match) -> bool:
    before = data[match.start() - 1 : match.start()]
    starts_token = not before or before in DELIMITER_BYTES
    return starts_token and VALUE_AFTER.match(data, match.end()) is not None


def _check_filter(data: bytes, at: int) -> None:
    """A stream's /Filter: direct names only, none of them an encoding this scan does not
    undo, an image codec only last in the chain."""
    value = FILTER_VALUE.match(data, at)
    if value is None:
        return  # not a dictionary key here (random bytes, or text in a string)
    text = value.group(1)
    if text[:1].isdigit() or (text[:1] == b"[" and re.search(rb"\d[" + _WS + rb"]+R", text)):
        raise PdfRefused("unreadable_encoding")  # an indirect filter is not followed
    names = [_normalise(m.group(1)) for m in NAME.finditer(text)]
    for index, name in enumerate(names):
        if name in UNREAD_FILTERS or (name in IMAGE_FILTERS and index < len(names) - 1):
            raise PdfRefused("unreadable_encoding")
