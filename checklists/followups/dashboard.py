"""The team dashboard: the supervisor's picture of their teams over the last weeks.

Each chart is a `Chart` (a title, column names, rows of a label and a number) that the
page draws as a bar SVG with its table, and that `chart_csv` writes as a CSV. Every figure
is counted by the database (one query per chart, whatever the number of cases); the
problems are counted inside the frozen snapshots with the database's own JSON functions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from ..access import teams_for_user
from ..models import CertificateOfAnalysis, ChecklistResponse, PatientCase, Product, Severity

WEEKS = 12


@dataclass
class Chart:
    key: str
    title: str
    columns: tuple[str, str]
    rows: list[tuple[str, int]]
    note: str = ""

    @property
    def total(self) -> int:
        return sum(n for _, n in self.rows)

    def bars(self) -> list[Bar]:
        """The rows as horizontal bars in a BAR_WIDTH-wide plot, the longest full width."""
        top = max((n for _, n in self.rows), default=0) or 1
        return [
            Bar(label, n, y=index * BAR_STEP, width=round(BAR_WIDTH * n / top))
            for index, (label, n) in enumerate(self.rows)
        ]

    @property
    def height(self) -> int:
        return max(len(self.rows), 1) * BAR_STEP


# The drawing's geometry (SVG user units): labels left of the bars, counts after them.
BAR_WIDTH, BAR_STEP, BAR_LEFT = 300, 28, 190


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int

    @property
    def value_x(self) -> int:
        """Where the count is written: just after the bar."""
        return BAR_LEFT + self.width + 6


def charts(user, today: datetime.date) -> list[Chart]:
    """Every chart of the dashboard, in page order."""
    return [CHARTS[key](user, today) for key in CHARTS]


def _since(today: datetime.date) -> datetime.date:
    """The Monday that starts the oldest of the last WEEKS weeks (this one included)."""
    monday = today - datetime.timedelta(days=today.weekday())
    return monday - datetime.timedelta(weeks=WEEKS - 1)


def _signed(user):
    """Checklists signed on the user's teams' cases (amended ones included: each signing
    was work done)."""
    return ChecklistResponse.objects.filter(
        case__team__in=teams_for_user(user),
        status__in=[ChecklistResponse.Status.SIGNED, ChecklistResponse.Status.SUPERSEDED],
    )


def signed_per_week(user, today: datetime.date) -> Chart:
    """One conditional count per week over plain datetime bounds: no per-row date
    function (SQLite runs Django's in Python, which cost 0.5 s at 50,000 checklists)."""
    since = _since(today)
    weeks = [since + datetime.timedelta(weeks=w) for w in range(WEEKS)]
    bounds = [_midnight(w) for w in [*weeks, weeks[-1] + datetime.timedelta(weeks=1)]]
    counts = (
        _signed(user)
        .filter(signed_at__gte=bounds[0], signed_at__lt=bounds[-1])
        .aggregate(
            **{
                f"week{n}": Count(
                    "id", filter=Q(signed_at__gte=bounds[n], signed_at__lt=bounds[n + 1])
                )
                for n in range(WEEKS)
            }
        )
    )
    return Chart(
        "signed-per-week",
        "Checklists signed per week",
        ("Week starting", "Checklists signed"),
        [(w.isoformat(), counts[f"week{n}"]) for n, w in enumerate(weeks)],
        note=f"The last {WEEKS} weeks, amended revisions included.",
    )


def _midnight(day: datetime.date) -> datetime.datetime:
    """The start of `day` in the site's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# The problems frozen in the current (signed, not superseded) checklists signed in the
# window, counted per category and severity inside the JSON. The two databases spell the
# array walk differently; both read the same keys the snapshot was written with.
_PROBLEMS_SQL = {
    "sqlite": """
        SELECT json_extract(f.value, '$.category'), json_extract(f.value, '$.severity'),
               COUNT(*)
        FROM {response} r, json_each(r.flags_snapshot) f
        WHERE r.id IN ({ids}) GROUP BY 1, 2""",
    "postgresql": """
        SELECT f.value ->> 'category', f.value ->> 'severity', COUNT(*)
        FROM {response} r, jsonb_array_elements(r.flags_snapshot) f(value)
        WHERE r.id IN ({ids}) GROUP BY 1, 2""",
}


# The problems chart reads at most this many checklists (the latest), so its cost stays
# the same however many a team signs: every snapshot's JSON is parsed whole (about 30 kB
# each in the demo: 500 take about 85 ms on SQLite).
PROBLEMS_SAMPLE = 500


def problems_by_kind(user, today: datetime.date) -> Chart:
    current = (
        _signed(user)
        .filter(status=ChecklistResponse.Status.SIGNED, signed_at__gte=_midnight(_since(today)))
        .order_by("-signed_at")  # the index's order: no sort
    )
    ids_sql, params = current.values("id")[:PROBLEMS_SAMPLE].query.sql_with_params()
    sql = _PROBLEMS_SQL[connection.vendor].format(
        response=ChecklistResponse._meta.db_table, ids=ids_sql
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    # A snapshot from any past version may hold a severity no longer known: it sorts last.
    found.sort(key=lambda row: (row[0] or "other", Severity.rank(row[1])))
    rows = [(f"{category or 'other'}, {severity}", n) for category, severity, n in found]
    return Chart(
        "problems",
        "Problems by kind and severity",
        ("Kind, severity", "Problems"),
        rows,
        note=f"Problems frozen in the current checklists signed in the last {WEEKS} weeks "
        f"(the latest {PROBLEMS_SAMPLE:,} at most).",
    )


def products_with_certificate(user, today: datetime.date) -> Chart:
    certified = CertificateOfAnalysis.objects.filter(lot__product=OuterRef("pk"))
    counts = (
        Product.objects.filter(supplier__team__in=teams_for_user(user))
        .annotate(certified=Exists(certified))
        .aggregate(total=Count("id"), with_coa=Count("id", filter=Q(certified=True)))
    )
    return Chart(
        "certificates",
        "Products with a lot certificate",
        ("Products", "Count"),
        [
            ("With a certificate for a lot", counts["with_coa"]),
            ("Without one", counts["total"] - counts["with_coa"]),
        ],
        note="Your teams' recorded products; a certificate for any of a product's lots counts.",
    )


# How late an overdue follow-up is: (label, first day late, last day late or None).
OVERDUE_BANDS = (("1 to 7 days", 1, 7), ("8 to 30 days", 8, 30), ("More than 30 days", 31, None))


def overdue_follow_ups(user, today: datetime.date) -> Chart:
    def band(first: int, last: int | None) -> Q:
        late = Q(follow_up_due__lte=today - datetime.timedelta(days=first))
        if last is not None:
            late &= Q(follow_up_due__gte=today - datetime.timedelta(days=last))
        return late

    # Aliases are plain names: Django refuses an alias with spaces.
    counts = PatientCase.objects.visible_to(user).aggregate(
        **{
            f"band{n}": Count("id", filter=band(f, last))
            for n, (_, f, last) in enumerate(OVERDUE_BANDS)
        }
    )
    return Chart(
        "overdue",
        "Follow-ups overdue",
        ("Overdue by", "Cases"),
        [(label, counts[f"band{n}"]) for n, (label, _, _) in enumerate(OVERDUE_BANDS)],
        note="Cases whose review date has passed.",
    )


CHARTS = {
    "signed-per-week": signed_per_week,
    "problems": problems_by_kind,
    "certificates": products_with_certificate,
    "overdue": overdue_follow_ups,
}
