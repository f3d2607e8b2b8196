"""Suppliers, their products and lots, certificates of analysis, and the lab limits.

Suppliers belong to a team, so a team's lots and their certificates are reused across the
team's cases and are never visible to another team.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .cases import Team
from .content import Severity, Source
from .stamp import ReferenceDataQuerySet


class LabLimit(models.Model):
    class Comparison(models.TextChoices):
        BELOW = "below", "Must be below the limit"
        MAX = "max", "At most the limit"
        ABSENT = "absent", "Must be absent"
        MAX_PCT_OF_ALKALOIDS = "max_pct_of_alkaloids", "At most this % of total alkaloids"
        WITHIN_PCT_OF_LABEL = "within_pct_of_label", "Within this % of the labelled amount"
        WITHIN_PCT_PER_UNIT = (
            "within_pct_per_unit",
            "Within this % of the labelled amount per unit (gummy, tablet)",
        )
        REQUIRED = "required", "A result must be reported"
        # 7-OH in ppm, mg/g or mg per serving: no limit of its own, compared with the
        # legal table's limit where the patient lives (screening/rules/lab_seven_oh.py).
        PLACE_LIMIT = "place_limit", "Compared with the legal limit where the patient lives"

    substance = models.CharField(
        max_length=12, choices=[("kratom", "Kratom"), ("melatonin", "Melatonin")]
    )
    analyte = models.SlugField(max_length=60)
    label = models.CharField(max_length=120)
    comparison = models.CharField(max_length=24, choices=Comparison.choices)
    limit = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    required = models.BooleanField(default=True, help_text="A COA must report this analyte.")
    severity_on_fail = models.CharField(max_length=16, choices=Severity.choices)
    # Issue 17: analytes reported together (an adulterant panel) raise one flag when the
    # certificate leaves them out, not one per analyte.
    panel = models.SlugField(
        max_length=40, blank=True, help_text="The analyte's panel, e.g. kratom-adulterants."
    )
    # The clinical problem a failed result belongs to (a Problem key); empty: product quality.
    problem_on_fail = models.SlugField(
        max_length=60,
        blank=True,
        help_text="Problem key a failed result is filed under; empty means product-quality.",
    )
    # USP <2232>'s permitted daily exposure: the result (ppm = µg/g) times the label's daily
    # amount (g) is compared with it, as well as the concentration limit.
    pde_ug_per_day = models.FloatField(
        "permitted daily exposure (µg/day)",
        null=True,
        blank=True,
        help_text="Compared with the result (ppm) × the labelled daily amount (g).",
    )
    summary = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="+")
    reviewed_on = models.DateField(null=True, blank=True)
    review_by = models.DateField(null=True, blank=True)

    objects = ReferenceDataQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["sources"])

    class Meta:
        ordering = ["substance", "analyte"]
        constraints = [
            models.UniqueConstraint(fields=["substance", "analyte"], name="one_limit_per_analyte"),
            models.CheckConstraint(
                condition=models.Q(pde_ug_per_day__isnull=True) | models.Q(pde_ug_per_day__gt=0),
                name="lab_limit_pde_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.substance} {self.label}"


class Supplier(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="suppliers")
    name = models.CharField(max_length=120)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="supplier_name_unique_in_team"),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Form(models.TextChoices):
        LEAF_POWDER = "leaf_powder", "Leaf powder or crushed leaf"
        CAPSULE = "capsule", "Capsules of leaf powder"
        EXTRACT = "extract", "Extract (liquid, resin or powder)"
        CONCENTRATED_7OH = "concentrated_7oh", "Concentrated 7-OH product"
        TABLET = "tablet", "Tablet"
        GUMMY = "gummy", "Gummy"
        LIQUID = "liquid", "Liquid or drops"
        OTHER = "other", "Other"

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=120)
    substance = models.CharField(
        max_length=12, choices=[("kratom", "Kratom"), ("melatonin", "Melatonin")]
    )
    form = models.CharField(max_length=20, choices=Form.choices)
    labelled_amount_mg = models.FloatField(
        null=True, blank=True, help_text="Labelled amount per dose (mg), e.g. melatonin 5."
    )
    # Issue 17: what the label says about amounts, for the lab checks that need them: the
    # daily amount (metals as µg a day), the serving size (7-OH per gram and per serving)
    # and the units in one dose (melatonin per gummy).
    daily_amount_g = models.FloatField(
        "labelled daily amount (g)",
        null=True,
        blank=True,
        help_text="The most the label says to take in a day, in grams of product.",
    )
    serving_size_g = models.FloatField(
        "serving size (g)", null=True, blank=True, help_text="One serving, in grams of product."
    )
    units_per_dose = models.PositiveSmallIntegerField(
        "units per dose",
        null=True,
        blank=True,
        help_text="Gummies, tablets or capsules in one labelled dose.",
    )

    class Meta:
        ordering = ["supplier__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "name", "form"], name="product_unique_per_supplier"
            ),
            models.CheckConstraint(
                condition=(models.Q(daily_amount_g__isnull=True) | models.Q(daily_amount_g__gt=0))
                & (models.Q(serving_size_g__isnull=True) | models.Q(serving_size_g__gt=0))
                & (models.Q(units_per_dose__isnull=True) | models.Q(units_per_dose__gt=0)),
                name="product_label_amounts_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_form_display().lower()})"


class LotQuerySet(models.QuerySet):
    def visible_to(self, user) -> LotQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(product__supplier__team__members=user)


class Lot(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField("lot on the label", max_length=60)
    created_at = models.DateTimeField(default=timezone.now)

    objects = LotQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "lot_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "lot_number"], name="lot_unique_per_product"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name}, lot {self.lot_number}"


def coa_upload_path(instance, filename: str) -> str:
    # A server-made name: nothing of what the user called the file reaches the disk.
    import uuid

    return f"coa/{uuid.uuid4().hex}.pdf"


class CertificateOfAnalysisQuerySet(models.QuerySet):
    def visible_to(self, user) -> CertificateOfAnalysisQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(lot__product__supplier__team__members=user)


class CertificateOfAnalysis(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="certificates")
    lab_name = models.CharField(max_length=160)
    accreditation_id = models.CharField(
        "ISO/IEC 17025 accreditation",
        max_length=80,
        blank=True,
        help_text="The lab's accreditation certificate number; empty if none or unknown.",
    )
    tested_on = models.DateField()
    coa_lot_number = models.CharField("lot printed on the COA", max_length=60)
    # {analyte: number, or "absent"/"detected" for microbes}
    results = models.JSONField(default=dict, blank=True)
    pdf = models.FileField(upload_to=coa_upload_path, blank=True)
    original_filename = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = CertificateOfAnalysisQuerySet.as_manager()

    class Meta:
        ordering = ["lot", "-tested_on", "-id"]
        verbose_name = "certificate of analysis"
        verbose_name_plural = "certificates of analysis"

    def __str__(self) -> str:
        return f"COA {self.coa_lot_number} ({self.lab_name}, {self.tested_on})"
