"""Checklist content: templates, versions, sections, items and their sources.

A published version is frozen: its own fields (other than the move to retired), its
sections and its items refuse every save, delete and queryset update. Signed checklists
point at the version they were answered on, so freezing it is what keeps an old record
meaning what it meant when it was signed.

A version in review is locked too (its sections, items and citations refuse writes), so
the second editor approves exactly what was submitted; sending it back to draft unlocks it.
Every content row keeps its history (django-simple-history): who changed it, when, what.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from .stamp import ReferenceDataQuerySet


class ImmutableContentError(Exception):
    """Raised on any attempt to change content that belongs to a published version."""


class Severity(models.TextChoices):
    CONTRAINDICATED = "contraindicated", "Contraindicated"
    MAJOR = "major", "Major"
    MODERATE = "moderate", "Moderate"
    MINOR = "minor", "Minor"
    INFO = "info", "Information"

    @classmethod
    def rank(cls, value: str) -> int:
        """0 for the most serious; used to sort flags. A severity no longer known (one a
        snapshot signed by an earlier version of the app may hold) ranks after all others."""
        values = [c.value for c in cls]
        return values.index(value) if value in values else len(values)


class ItemKind(models.TextChoices):
    YES_NO_UNKNOWN = "yes_no_unknown", "Yes / no / unknown"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    MEDICATION_LIST = "medication_list", "Medication list"
    JURISDICTION = "jurisdiction", "Jurisdiction"
    PRODUCT_LOT = "product_lot", "Product and lot"


YES_NO_UNKNOWN_OPTIONS = [
    {"code": "yes", "label": "Yes"},
    {"code": "no", "label": "No"},
    {"code": "unknown", "label": "Unknown"},
]


class Source(models.Model):
    class Kind(models.TextChoices):
        SOURCE_DOCUMENT = "source_document", "Source document"
        REGULATORY = "regulatory", "Regulatory statement"
        LAW = "law", "Statute or rule"
        LABEL = "label", "Product label / SmPC"
        REVIEW = "review", "Systematic review"
        STUDY = "study", "Clinical or laboratory study"
        OBSERVATIONAL = "observational", "Observational data"
        CASE_REPORT = "case_report", "Case report"
        NEWS = "news", "News report"
        EXPERT = "expert", "Expert opinion / secondary summary"

    # The order an item's citations are shown in: clinical and regulatory evidence first,
    # the web articles the checklist was drawn from last, so a promotional article is never
    # shown as the first evidence for a clinical claim (issue 18).
    EVIDENCE_ORDER = (
        Kind.LABEL,
        Kind.REGULATORY,
        Kind.LAW,
        Kind.REVIEW,
        Kind.STUDY,
        Kind.OBSERVATIONAL,
        Kind.CASE_REPORT,
        Kind.EXPERT,
        Kind.NEWS,
        Kind.SOURCE_DOCUMENT,
    )

    key = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=400)
    publisher = models.CharField(max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)

    objects = ReferenceDataQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def evidence_rank(self) -> int:
        """Its place in EVIDENCE_ORDER (0 is shown first); a kind the order does not know
        goes last, so an unclassified source is never the first evidence either."""
        try:
            return self.EVIDENCE_ORDER.index(self.kind)
        except ValueError:
            return len(self.EVIDENCE_ORDER)

    @property
    def is_source_document(self) -> bool:
        return self.kind == self.Kind.SOURCE_DOCUMENT


class ChecklistTemplate(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    canonical_url = models.URLField(max_length=300, help_text="FHIR Questionnaire canonical url.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def current_version(self) -> TemplateVersion | None:
        return self.versions.published().first()


class TemplateVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=TemplateVersion.Status.PUBLISHED)

    def update(self, **kwargs):
        frozen = self.filter(status__in=TemplateVersion.FROZEN).exists()
        if frozen and set(kwargs) - TemplateVersion.RETIREMENT_FIELDS:
            raise ImmutableContentError("A published or retired version cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        if self.exclude(status=TemplateVersion.Status.DRAFT).exists():
            raise ImmutableContentError("Only a draft version can be deleted.")
        return super().delete()


class TemplateVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    # The version's own fields never change again (except the move to retired).
    FROZEN = (Status.PUBLISHED, Status.RETIRED)
    # Its sections, items and citations refuse writes (in review: until sent back to draft).
    CONTENT_LOCKED = (Status.IN_REVIEW, Status.PUBLISHED, Status.RETIRED)
    # What a frozen version may still change: the move to retired, and the proposal of it
    # that a second editor confirms (authoring/workflow.py).
    RETIREMENT_FIELDS = {"status", "retired_at", "retire_proposed_by", "retire_proposed_at"}

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    content_hash = models.CharField(max_length=64, blank=True)
    change_summary = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The version this draft was copied from.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Retiring the published version leaves new checklists of its template without one, so
    # it is proposed by one editor and confirmed by another.
    retire_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retire_proposed_at = models.DateTimeField(null=True, blank=True)

    objects = TemplateVersionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["template", "-number"]
        permissions = [("publish_templateversion", "Can approve and publish a checklist version")]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="version_number_unique"),
            models.UniqueConstraint(
                fields=["template"],
                condition=models.Q(status="published"),
                name="one_published_version_per_template",
            ),
            # Two-person rule, also in the database: nobody approves their own version.
            models.CheckConstraint(
                condition=Q(approver__isnull=True)
                | Q(author__isnull=True)
                | ~Q(approver=F("author")),
                name="version_approver_is_not_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.title} v{self.number} ({self.get_status_display()})"

    def save(self, *args, **kwargs):
        """Refuse any change to a frozen version except published → retired (and, while
        published, proposing or cancelling that move)."""
        if self.pk is not None:
            stored = TemplateVersion.objects.filter(pk=self.pk).values().first()
            if stored and stored["status"] in self.FROZEN:
                changed = {
                    f.name
                    for f in self._meta.concrete_fields
                    if getattr(self, f.attname) != stored[f.attname]
                }
                retiring = changed <= self.RETIREMENT_FIELDS and (
                    self.status == self.Status.RETIRED
                    or (stored["status"] == self.Status.PUBLISHED and "status" not in changed)
                )
                if changed and not retiring:
                    raise ImmutableContentError(
                        f"Version {self.number} is {stored['status']}; start a new draft instead."
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != self.Status.DRAFT:
            raise ImmutableContentError("Only a draft version can be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.status in self.FROZEN

    @property
    def content_locked(self) -> bool:
        """Whether its sections, items and citations refuse writes."""
        return self.status in self.CONTENT_LOCKED

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def contributor_ids(self) -> set[int]:
        """Everyone who wrote this version: its author, its submitter and whoever created,
        changed or deleted one of its sections, items or citations (from their history).
        None of them may approve it."""
        ids = {self.author_id, self.submitted_by_id}
        item_ids = Item.history.filter(version_id=self.pk).values("id")
        for rows in (
            Section.history.filter(version_id=self.pk),
            Item.history.filter(version_id=self.pk),
            Citation.history.filter(item_id__in=item_ids),
        ):
            ids.update(rows.exclude(history_user=None).values_list("history_user_id", flat=True))
        ids.discard(None)
        return ids


class FrozenContentQuerySet(models.QuerySet):
    """Queryset for rows owned by a version: bulk writes are refused once it is published."""

    version_path = "version"

    def _touches_frozen(self) -> bool:
        locked = TemplateVersion.CONTENT_LOCKED
        return self.filter(**{f"{self.version_path}__status__in": locked}).exists()

    def update(self, **kwargs):
        if self._touches_frozen():
            raise ImmutableContentError("Content of a published version cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        if self._touches_frozen():
            raise ImmutableContentError("Content of a published version cannot be deleted.")
        return super().delete()


class FrozenWithVersion(models.Model):
    """Rows that belong to a version and freeze with it."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self._refuse_if_frozen()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_if_frozen()
        return super().delete(*args, **kwargs)

    def owning_version(self) -> TemplateVersion:
        return self.version

    def _refuse_if_frozen(self) -> None:
        version_id = self.owning_version().pk
        status = TemplateVersion.objects.filter(pk=version_id).values_list("status", flat=True)
        status = status.first()
        if status in TemplateVersion.FROZEN:
            raise ImmutableContentError(
                "This content belongs to a published version; start a new draft to change it."
            )
        if status == TemplateVersion.Status.IN_REVIEW:
            raise ImmutableContentError(
                "This version is in review; send it back to draft to change it."
            )


class Section(FrozenWithVersion):
    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField()

    objects = FrozenContentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="section_key_unique"),
            models.UniqueConstraint(fields=["version", "position"], name="section_position_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Item(FrozenWithVersion):
    # Denormalised so that item keys are unique across the whole version in the database.
    version = models.ForeignKey(TemplateVersion, on_delete=models.CASCADE, related_name="items")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=60)
    position = models.PositiveSmallIntegerField()
    prompt = models.CharField(max_length=300)
    help_text = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=ItemKind.choices)
    # [{"code": "daily", "label": "Daily"}, ...] for choice kinds; fixed for yes/no/unknown.
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=True)
    # {"item": key, "op": "equals|not_equals|in|includes|answered", "value": ...} or null.
    show_when = models.JSONField(null=True, blank=True)
    # {"when": [codes], "severity": ..., "advice": ...} or null.
    caution = models.JSONField(null=True, blank=True)
    # How the answer feeds the screening engine, or null:
    # {"role": "substances"|"factors", "map": {option code: agent or factor}} or
    # {"role": "medications"|"jurisdiction"|"products"}.
    screening = models.JSONField(null=True, blank=True)
    # Tags naming which source-document cautions this item covers (content QA).
    caution_tags = models.JSONField(default=list, blank=True)
    sources = models.ManyToManyField(Source, through="Citation", related_name="items")
    reviewed_on = models.DateField(null=True, blank=True)
    review_by = models.DateField(null=True, blank=True)

    objects = FrozenContentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["section__position", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="item_key_unique_in_version"),
            models.UniqueConstraint(fields=["section", "position"], name="item_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.prompt}"

    def clean(self) -> None:
        """An item belongs to its section's version (the version is denormalised), and its
        key is unique in that version (also checked here because forms that set the version
        themselves, like the section page's item rows, skip the database constraint)."""
        if not self.version_id:
            return
        if self.section_id and self.section.version_id != self.version_id:
            raise ValidationError({"section": "Choose a section of the same version."})
        taken = Item.objects.filter(version_id=self.version_id, key=self.key).exclude(pk=self.pk)
        if self.key and taken.exists():
            raise ValidationError(
                {"key": f"Another item of this version has the key {self.key!r}."}
            )

    @property
    def choices(self) -> list[dict]:
        if self.kind == ItemKind.YES_NO_UNKNOWN:
            return YES_NO_UNKNOWN_OPTIONS
        return self.options or []

    @property
    def screening_role(self) -> str:
        """The part the item plays in screening ("medications", "legal_check_date", ...;
        "" for none): the role key of its `screening` (checklists/content/README.md)."""
        return (self.screening or {}).get("role", "")

    def option_label(self, code: str) -> str:
        for option in self.choices:
            if option["code"] == code:
                return option["label"]
        return code


class CitationQuerySet(FrozenContentQuerySet):
    version_path = "item__version"


class Citation(FrozenWithVersion):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="citations")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    locator = models.CharField(max_length=300, blank=True, help_text="Section heading or table.")

    objects = CitationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["item", "id"]

    def __str__(self) -> str:
        return f"{self.source} — {self.locator}" if self.locator else str(self.source)

    def owning_version(self) -> TemplateVersion:
        return self.item.version
