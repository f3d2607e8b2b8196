"""The knowledge editors maintain: substances with their names and classes, interaction
rules and individual-variability rules. Each rule has severity, evidence, sources and
review dates. The screening engine reads these; it never writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from .content import Severity, Source
from .stamp import ReferenceDataQuerySet

_NON_WORD = re.compile(r"[^a-z0-9]+")


def is_question(title) -> bool:
    """A caution title written as a question (issue 16: titles state the problem). The one
    test, used by the models, the content files' checks, the loaders and publishing."""
    return isinstance(title, str) and title.rstrip().endswith("?")


def refuse_question(title: str) -> None:
    """A caution states its problem, never asks it: the admin's form and the proposal's
    approval (full_clean) refuse a title ending with "?"."""
    if is_question(title):
        raise ValidationError({"title": "State the problem; a title is never a question."})


def normalise_name(text: str) -> str:
    """Lower-case words separated by single spaces: 'Oxy-Contin®' → 'oxy contin'."""
    return " ".join(_NON_WORD.split(text.lower())).strip()


class Agent(models.TextChoices):
    KRATOM = "kratom", "Kratom"
    MELATONIN = "melatonin", "Melatonin"


class Problem(models.Model):
    """A clinical problem (CNS depression, serotonin toxicity, product quality...): every
    rule hit is a contributor to one, and screening shows one flag per problem, not per hit
    (issue 16). Editors keep the catalogue, with sources and review dates, like the rules."""

    class Category(models.TextChoices):
        INTERACTION = "interaction", "Interaction"
        VARIABILITY = "variability", "Individual variability"
        LEGAL = "legal", "Legal"
        LAB = "lab", "Lab testing and product quality"
        CARE = "checklist", "Care plan"

    key = models.SlugField(max_length=60, unique=True)
    title = models.CharField(
        max_length=120, help_text="A statement of the problem, never a question."
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    description = models.TextField()
    sources = models.ManyToManyField(Source, related_name="+")
    reviewed_on = models.DateField(null=True, blank=True)
    review_by = models.DateField(null=True, blank=True)

    objects = ReferenceDataQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["sources"])

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        refuse_question(self.title)


class ReviewedRow(models.Model):
    # Null only for rows written before the catalogue existed; the loader sets it, and
    # screening files a rule without one under its own code.
    problem = models.ForeignKey(
        Problem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    severity = models.CharField(max_length=16, choices=Severity.choices)
    evidence = models.CharField(max_length=60, blank=True, help_text="Evidence tags, e.g. CS, OBS.")
    title = models.CharField(max_length=200)
    advice = models.TextField()
    sources = models.ManyToManyField(Source, related_name="+")
    reviewed_on = models.DateField(null=True, blank=True)
    review_by = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        refuse_question(self.title)


class Substance(models.Model):
    """A drug, botanical or supplement; a class of them; or a product (issue 17): a
    combination or a brand line that names its ingredients ("Fioricet with Codeine":
    butalbital, acetaminophen, caffeine, codeine). A medicine that matches a product is
    screened as each of its ingredients, so a product has no classes of its own, and its
    ingredient list carries the label it was checked against (sources, review dates). A
    class's members decide which rules fire, so a class cites the source that defines
    them, with the same review dates; every row has a review-by date."""

    class Kind(models.TextChoices):
        DRUG = "drug", "Drug"
        DRUG_CLASS = "drug_class", "Drug class"
        BOTANICAL = "botanical", "Botanical"
        SUPPLEMENT = "supplement", "Supplement"
        PRODUCT = "product", "Product (names its ingredients)"

    # What a product may contain: a substance, never a class or another product.
    INGREDIENT_KINDS = (Kind.DRUG, Kind.BOTANICAL, Kind.SUPPLEMENT)

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    classes = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="members",
        blank=True,
        limit_choices_to={"kind": "drug_class"},
    )
    ingredients = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="products",
        blank=True,
        limit_choices_to={"kind__in": INGREDIENT_KINDS},
        help_text="Products only: every active ingredient on the label.",
    )
    # What the row rests on (issue 17): a class, the source that defines its members; a
    # product, the label its ingredient list was checked against; what it says, and when.
    sources = models.ManyToManyField(
        Source,
        related_name="+",
        blank=True,
        help_text=(
            "A class: the source that defines its members (required). A product: the label "
            "its ingredients were checked against (required). Other rows: optional."
        ),
    )
    source_says = models.TextField(
        blank=True, help_text="What the sources state about the members or the ingredients."
    )
    reviewed_on = models.DateField(
        null=True, blank=True, help_text="The day the row was last checked against its sources."
    )
    review_by = models.DateField(
        null=True, blank=True, help_text="Every row: the day it must be reviewed again."
    )

    objects = ReferenceDataQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["ingredients", "sources"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def ingredient_problems(
        self, ingredients: Iterable, classes: Iterable, sources: Iterable
    ) -> list[str]:
        """Why these ingredients, classes and sources cannot stand for this row (none: they
        can). The one rule, asked by the loader, the admin's form and a proposal's approval:
        a product names at least one ingredient, each a substance (not a class, not a
        product), has no classes of its own and cites its label; any other row names no
        ingredients."""
        ingredients = list(ingredients)
        if self.kind != self.Kind.PRODUCT:
            if ingredients:
                return ["Ingredients: only a product lists ingredients."]
            return []
        reasons = []
        if not ingredients:
            reasons.append("Ingredients: a product names at least one ingredient.")
        wrong = sorted(
            s.name for s in ingredients if s.kind not in self.INGREDIENT_KINDS or s.pk == self.pk
        )
        if wrong:
            reasons.append(f"Ingredients: not a substance: {', '.join(wrong)}.")
        if list(classes):
            reasons.append("Classes: a product has none of its own; its ingredients' count.")
        if not list(sources):
            reasons.append("Sources: cite the label the ingredient list was checked against.")
        return reasons

    def reference_problems(self, sources: Iterable, review_by) -> list[str]:
        """Why these sources and review-by date cannot stand for this row (none: they can).
        Issue 17: every content row has a source and a review-by date. A class's members
        decide which rules fire, so a class cites the source that defines them; every row
        names the day it must be reviewed again. The one rule, asked by the loader, the
        admin's form and a proposal's approval, like ingredient_problems."""
        reasons = []
        if self.kind == self.Kind.DRUG_CLASS and not list(sources):
            reasons.append("Sources: a class cites the source that defines its members.")
        if not review_by:
            reasons.append("Review by: every substance names the day it must be reviewed again.")
        return reasons


class SubstanceAlias(models.Model):
    """A generic or brand name a patient or prescriber might write for a substance."""

    substance = models.ForeignKey(Substance, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=120)
    normalised = models.CharField(max_length=120, unique=True, editable=False)

    objects = ReferenceDataQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "substance aliases"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.normalised = normalise_name(self.name)
        super().save(*args, **kwargs)


class InteractionRuleQuerySet(ReferenceDataQuerySet):
    def annotate_target_key(self) -> InteractionRuleQuerySet:
        return self.annotate(target_key=models.F("target__key"))


class InteractionRule(ReviewedRow):
    class Likelihood(models.TextChoices):
        LIKELY = "likely", "Likely"
        POSSIBLE = "possible", "Possible"
        UNLIKELY = "unlikely", "Unlikely"
        UNKNOWN = "unknown", "Unknown"

    code = models.CharField(max_length=120, unique=True)
    agent = models.CharField(max_length=12, choices=Agent.choices)
    target = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="rules")
    likelihood = models.CharField(max_length=10, choices=Likelihood.choices)
    mechanism = models.TextField()

    objects = InteractionRuleQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["sources"])

    class Meta:
        ordering = ["agent", "code"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "target"], name="one_rule_per_agent_target"),
        ]

    def __str__(self) -> str:
        return self.code


class VariabilityRule(ReviewedRow):
    """An individual factor (pregnancy, age band, liver disease...) that raises a caution
    for one agent or for any. The factor "combination" fires when kratom and melatonin are
    both in use."""

    class Factor(models.TextChoices):
        PREGNANT = "pregnant", "Pregnant or planning pregnancy"
        BREASTFEEDING = "breastfeeding", "Breastfeeding"
        UNDER_18 = "under_18", "Under 18"
        AGE_65_PLUS = "age_65_plus", "65 or over"
        HEPATIC = "hepatic_impairment", "Liver impairment"
        RENAL = "renal_impairment", "Kidney impairment"
        SEIZURE = "seizure_history", "Seizure history"
        PSYCHIATRIC = "psychiatric_condition", "Psychiatric condition"
        SUD = "substance_use_disorder_history", "Substance use disorder history"
        WITHDRAWAL = "withdrawal_signs", "Dependence or withdrawal signs"
        LONG_QT = "long_qt", "Long QT"
        AUTOIMMUNE = "autoimmune_disease", "Autoimmune disease"
        DIABETES = "diabetes", "Diabetes"
        COMBINATION = "combination", "Kratom and melatonin together"

    ANY = "any"

    code = models.CharField(max_length=120, unique=True)
    factor = models.CharField(max_length=40, choices=Factor.choices)
    agent = models.CharField(max_length=12, choices=[*Agent.choices, (ANY, "Any")])

    objects = ReferenceDataQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["sources"])

    class Meta:
        ordering = ["factor", "agent"]

    def __str__(self) -> str:
        return self.code


class CombinationRule(ReviewedRow):
    """The patient's own medicines with each other, screened when kratom or melatonin is in
    the picture (issue 16): a medicine of `first` with a different one of `second`, or,
    when `second` is empty, two or more different medicines of `first`. `source_says`
    records what the cited source states, `reviewed_on` the day it was checked."""

    code = models.CharField(max_length=120, unique=True)
    first = models.ForeignKey(Substance, on_delete=models.PROTECT, related_name="+")
    second = models.ForeignKey(
        Substance, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_says = models.TextField()

    objects = InteractionRuleQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=["sources"])

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
