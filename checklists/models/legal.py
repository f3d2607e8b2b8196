"""Where kratom and melatonin are legal: jurisdictions and dated legal-status rows.

A change in the law is a new row with an effective date, never an edit of the old one,
so a checklist signed before the change keeps meaning what it meant.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .content import Source
from .stamp import ReferenceDataQuerySet

Place = tuple[str, str]  # (code, label): what the forms and the knowledge base hold


@dataclass(frozen=True)
class PlaceMatch:
    """What a typed place names in the legal table: the code of one place, or none and
    the places it might have meant (`ambiguous`: several fit it exactly, as "CA" fits
    Canada and California; otherwise the closest spellings)."""

    code: str | None
    candidates: tuple[Place, ...] = ()
    ambiguous: bool = False


_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_LABEL_WITH_CODE = re.compile(r"(.*)\(\s*([A-Za-z0-9_ -]+?)\s*\)")
MAX_CANDIDATES = 5


def _squeeze(text: str) -> str:
    return " ".join(text.split()).casefold()


def _as_code(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip()).upper()


def _names(label: str) -> set[str]:
    """The spellings of a place's name a person may type: "San Diego (city), California"
    is also "San Diego (city)", "San Diego" and "San Diego, California"."""
    label = _squeeze(label)
    names = {label, label.split(",")[0].strip()}
    return names | {_PARENTHESES.sub("", name).strip() for name in names}


def resolve_place(text: str, places: Iterable[Place]) -> PlaceMatch:
    """The place `text` names among `places`, by code ("US-TX"), name ("texas"), a US
    state's postal code ("TX") or the suggestion list's "Texas (US-TX)"; case and spacing
    do not matter. Never a guess: several exact fits are ambiguous, none gives the closest
    places. Pure, so the checklist resolves against the in-memory knowledge base."""
    places = list(places)
    by_code = dict(places)
    wanted = _squeeze(text)
    if not wanted:
        return PlaceMatch(None)
    labelled = _LABEL_WITH_CODE.fullmatch(wanted)
    if labelled and _as_code(labelled[2]) in by_code:
        code, name = _as_code(labelled[2]), labelled[1].strip().rstrip(",").strip()
        if not name or name in _names(by_code[code]):
            return PlaceMatch(code)
        others = _exact(name, places)
        return PlaceMatch(None, _listed(places, {code, *others}), ambiguous=True)
    found = _exact(wanted, places)
    if len(found) == 1:
        return PlaceMatch(found.pop())
    if found:
        return PlaceMatch(None, _listed(places, found), ambiguous=True)
    return PlaceMatch(None, _closest(wanted, places))


def _exact(wanted: str, places: Sequence[Place]) -> set[str]:
    code = _as_code(wanted)
    postal = f"US-{code}" if re.fullmatch(r"[A-Z]{2}", code) else None
    return {place for place, label in places if place in (code, postal) or wanted in _names(label)}


def _listed(places: Sequence[Place], codes: set[str]) -> tuple[Place, ...]:
    return tuple(place for place in places if place[0] in codes)


def _closest(wanted: str, places: Sequence[Place]) -> tuple[Place, ...]:
    """Up to MAX_CANDIDATES places for a text that names none: those whose name or code
    begins with it, the known places a code sits under ("US-XX": United States), then
    the nearest spellings."""
    code = _as_code(wanted)
    chosen: list[str] = [
        place
        for place, label in places
        if any(name.startswith(wanted) for name in _names(label)) or place.startswith(code)
    ]
    parts = code.split("-")
    chosen += ["-".join(parts[:end]) for end in range(len(parts) - 1, 0, -1)]
    spellings = {name: place for place, label in places for name in _names(label)}
    near = difflib.get_close_matches(wanted, spellings, n=MAX_CANDIDATES, cutoff=0.6)
    chosen += [spellings[name] for name in near]
    known = dict(places)
    unique = [place for place in dict.fromkeys(chosen) if place in known]
    return tuple((place, known[place]) for place in unique[:MAX_CANDIDATES])


class JurisdictionQuerySet(ReferenceDataQuerySet):
    def choices(self) -> list[Place]:
        """(code, label) for every place, in code order: one query."""
        return [(place.code, place.label()) for place in self.select_related("parent")]

    def resolve(self, text: str) -> PlaceMatch:
        """The place typed as `text` (see `resolve_place`): one query."""
        return resolve_place(text, self.choices())


class Jurisdiction(models.Model):
    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        STATE = "state", "State or territory"
        LOCALITY = "locality", "City or county"

    code = models.CharField(max_length=60, unique=True, help_text="ISO 3166 code, or STATE-SLUG.")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    objects = JurisdictionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def label(self) -> str:
        if self.kind == self.Kind.LOCALITY and self.parent_id:
            return f"{self.name}, {self.parent.name}"
        return self.name


class LegalStatusQuerySet(ReferenceDataQuerySet):
    def in_effect_on(self, day: datetime.date) -> LegalStatusQuerySet:
        return self.filter(
            Q(effective_from__isnull=True) | Q(effective_from__lte=day),
            Q(effective_to__isnull=True) | Q(effective_to__gte=day),
        )

    def stale_by(self, day: datetime.date) -> LegalStatusQuerySet:
        """Rows that will be stale on `day` (verified more than LEGAL_STALE_DAYS before it)
        and still in force then or later: a law that ended is history, not re-verified.
        Rows marked unclear are left out: their caution comes from the status, whatever
        the date, and the fix is a change of the row, not a re-verification."""
        oldest_fresh = day - datetime.timedelta(days=settings.LEGAL_STALE_DAYS)
        return (
            self.filter(verified_on__lt=oldest_fresh)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
            .exclude(status=LegalStatus.Status.UNCLEAR)
            .select_related("jurisdiction")
            .order_by("verified_on", "jurisdiction__code", "substance")
        )


class LegalStatus(models.Model):
    class Substance(models.TextChoices):
        KRATOM = "kratom", "Kratom (leaf and products)"
        SEVEN_OH = "seven_oh", "Concentrated 7-OH products"
        MELATONIN = "melatonin", "Melatonin"

    class Status(models.TextChoices):
        LEGAL = "legal", "Legal"
        REGULATED = "regulated", "Legal, regulated"
        AGE_RESTRICTED = "age_restricted", "Legal with a minimum age"
        BANNED = "banned", "Banned"
        # Selling is unlawful but buying or holding it is not an offence (a regulator's
        # sale ban, or a product that may not be marketed): not the same advice as a ban.
        SALE_PROHIBITED = "sale_prohibited", "Sale prohibited; possession not an offence"
        UNCLEAR = "unclear", "Unclear: verify"

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="legal_statuses"
    )
    substance = models.CharField(max_length=12, choices=Substance.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    seven_oh_rule = models.CharField("7-OH rule", max_length=300, blank=True)
    # Issue 17: the 7-OH limit a statute or rule sets, as figures the lab check compares a
    # certificate with (screening/rules/lab_seven_oh.py); set only where the text was read.
    seven_oh_max_pct_of_alkaloids = models.FloatField(
        "7-OH at most (% of total alkaloids)", null=True, blank=True
    )
    seven_oh_max_mg_per_g = models.FloatField(
        "7-OH at most (mg per g of product)",
        null=True,
        blank=True,
        help_text="1 mg/g = 1,000 ppm = 0.1 % w/w.",
    )
    seven_oh_max_mg_per_serving = models.FloatField(
        "7-OH at most (mg per serving or unit)", null=True, blank=True
    )
    seven_oh_limit_status = models.CharField(
        "7-OH limit status",
        max_length=10,
        blank=True,
        choices=[("in_force", "In force"), ("proposed", "Proposed, not in force")],
    )
    seven_oh_limit_law = models.CharField(
        "7-OH limit: the law that sets it",
        max_length=160,
        blank=True,
        help_text="Short citation the lab flag shows, e.g. Tex. Health & Safety Code 444.003(3).",
    )
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    summary = models.TextField()
    sources = models.ManyToManyField(Source, related_name="+")
    verified_on = models.DateField()
    verified_by = models.CharField(max_length=120)
    # What the last re-verification found in its source (an editor's "re-verify" action,
    # approved by a second editor); the data files do not carry it.
    verification_note = models.TextField(
        blank=True, help_text="What the source said at the last check, in our own words."
    )
    reviewed_on = models.DateField(null=True, blank=True)
    review_by = models.DateField(null=True, blank=True)

    objects = LegalStatusQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["sources"])

    class Meta:
        ordering = ["jurisdiction__code", "substance", "effective_from"]
        verbose_name_plural = "legal statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_from__isnull=True)
                | Q(effective_to__isnull=True)
                | Q(effective_from__lte=models.F("effective_to")),
                name="legal_status_dates_in_order",
            ),
            models.CheckConstraint(
                condition=(
                    Q(seven_oh_max_pct_of_alkaloids__isnull=True)
                    | Q(seven_oh_max_pct_of_alkaloids__gt=0, seven_oh_max_pct_of_alkaloids__lte=100)
                )
                & (Q(seven_oh_max_mg_per_g__isnull=True) | Q(seven_oh_max_mg_per_g__gt=0))
                & (
                    Q(seven_oh_max_mg_per_serving__isnull=True)
                    | Q(seven_oh_max_mg_per_serving__gt=0)
                ),
                name="legal_status_seven_oh_limits_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction.code} {self.substance}: {self.status}"

    def is_stale(self, on: datetime.date) -> bool:
        """Verified longer ago than LEGAL_STALE_DAYS before `on`."""
        return (on - self.verified_on).days > settings.LEGAL_STALE_DAYS

    @property
    def stale_from(self) -> datetime.date:
        """The first day on which `is_stale` holds: screening asks the clinician's own check
        of the law from then on."""
        return self.verified_on + datetime.timedelta(days=settings.LEGAL_STALE_DAYS + 1)
