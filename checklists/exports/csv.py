"""/exports/responses.csv and the batch command: checklist responses as streamed CSV.

Wide format: one row per response. Long format: one row per answer. Both read the
database through `iterator(chunk_size=2000)` (a server-side cursor on PostgreSQL) and
yield the CSV in chunks of about 1,000 rows, so memory does not grow with the number of
rows, and the number of queries does not depend on it either.

Flag counts come from the flags frozen at signing (`flags_snapshot`): one per clinical problem
since issue 16 (its contributors inside it), one per rule hit before. A draft has no
snapshot and computing its flags means running the screening engine per row (several
queries each), so a draft's count and code cells are left empty, and the "serious flags"
filter never matches a draft.

Every text cell that a spreadsheet could read as a formula (starting with =, +, -, @, a
tab or a carriage return) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from accounts.models import signature_text

from ..models import Answer, ChecklistResponse, Item, Severity
from .document import answer_text

CHUNK_ROWS = 1000
DB_CHUNK_SIZE = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SEVERITIES = [s.value for s in Severity]

WIDE_HEADER = [
    "response_id",
    "case_reference",
    "team",
    "template",
    "version",
    "revision",
    "status",
    "started_at",
    "signed_at",
    "signed_by",  # "Dana Reyes, PharmD" as frozen at signing, else the username
    "signed_by_username",
    *(f"flags_{s}" for s in SEVERITIES),
    "flag_codes",
]
LONG_HEADER = [
    "response_id",
    "case_reference",
    "team",
    "version",
    "status",
    "section",
    "item_key",
    "prompt",
    "answer",
    "value_json",
]


@dataclass(frozen=True)
class ExportFilters:
    """Which responses a bulk export covers. Dates are inclusive, in UTC."""

    started_from: datetime.date | None = None
    started_to: datetime.date | None = None
    status: str = ""
    team_id: int | None = None
    serious_only: bool = False
    changed_since: datetime.date | None = None

    def as_dict(self) -> dict[str, Any]:
        """For the audit event: only the filters actually set."""
        data = {
            "started_from": self.started_from,
            "started_to": self.started_to,
            "status": self.status,
            "team_id": self.team_id,
            "serious_only": self.serious_only,
            "changed_since": self.changed_since,
        }
        return {
            key: value.isoformat() if isinstance(value, datetime.date) else value
            for key, value in data.items()
            if value not in (None, "", False)
        }


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def apply_filters(queryset, filters: ExportFilters):
    if filters.started_from:
        queryset = queryset.filter(started_at__gte=_day_start(filters.started_from))
    if filters.started_to:
        end = _day_start(filters.started_to) + datetime.timedelta(days=1)
        queryset = queryset.filter(started_at__lt=end)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.team_id:
        queryset = queryset.filter(case__team_id=filters.team_id)
    if filters.serious_only:
        queryset = queryset.with_serious_flags()
    if filters.changed_since:
        queryset = queryset.filter(updated_at__gte=_day_start(filters.changed_since))
    return queryset


def neutralise(cell: Any) -> Any:
    """A cell as written: formulas defused, dates in ISO form, None as empty."""
    if cell is None:
        return ""
    if isinstance(cell, datetime.datetime):
        return cell.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(cell, str) and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def stream_csv(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """CSV text in chunks of CHUNK_ROWS rows (the header travels with the first chunk)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        pending += 1
        if pending == CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
            pending = 0
    yield buffer.getvalue()


def flag_summary(status: str, snapshot: list[dict] | None) -> list[Any]:
    """Counts per severity and the codes, from the snapshot; empty cells for a draft."""
    if status == ChecklistResponse.Status.DRAFT:
        return [""] * (len(SEVERITIES) + 1)
    snapshot = snapshot or []
    counts = dict.fromkeys(SEVERITIES, 0)
    for flag in snapshot:
        if flag.get("severity") in counts:
            counts[flag["severity"]] += 1
    return [*counts.values(), " ".join(flag.get("code", "") for flag in snapshot)]


def wide_rows(queryset) -> Iterator[list[Any]]:
    rows = queryset.order_by("pk").values_list(
        "pk",
        "case__reference",
        "case__team__name",
        "version__template__slug",
        "version__number",
        "revision",
        "status",
        "started_at",
        "signed_at",
        "signed_by__username",
        "signed_as",
        "flags_snapshot",
    )
    for *fields, username, signed_as, snapshot in rows.iterator(chunk_size=DB_CHUNK_SIZE):
        signer = signature_text(signed_as, username or "")
        yield [*fields, signer, username, *flag_summary(fields[6], snapshot)]


def long_rows(queryset) -> Iterator[list[Any]]:
    # Every item of every version the responses use, in one query (a handful of versions).
    items = {
        item.pk: item
        for item in Item.objects.filter(version_id__in=queryset.values("version_id"))
        .select_related("section")
        .order_by()
    }
    answers = (
        Answer.objects.filter(response__in=queryset.values("pk"))
        .order_by("response_id", "item__section__position", "item__position")
        .values_list(
            "response_id",
            "response__case__reference",
            "response__case__team__name",
            "response__version__number",
            "response__status",
            "item_id",
            "value",
        )
    )
    for *fields, item_id, value in answers.iterator(chunk_size=DB_CHUNK_SIZE):
        item = items[item_id]
        yield [
            *fields,
            item.section.key,
            item.key,
            item.prompt,
            answer_text(item, value),
            json.dumps(value, ensure_ascii=False),
        ]


def export_csv(queryset, *, long: bool = False) -> Iterator[str]:
    """The streamed CSV for a (filtered, access-scoped) queryset of responses."""
    if long:
        return stream_csv(LONG_HEADER, long_rows(queryset))
    return stream_csv(WIDE_HEADER, wide_rows(queryset))
