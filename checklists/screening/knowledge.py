"""The knowledge screening reads, as plain in-memory values.

`load_knowledge_base` reads every knowledge row once (16 queries); `knowledge_base()` keeps
the result in this process's cache while the reference-data token is unchanged (see
`checklists/refdata.py`); `load_knowledge` picks what one intake needs from it. Nothing here
writes.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db.models import F, Value

from .. import refdata
from ..models.content import Source
from ..models.knowledge import (
    CombinationRule,
    InteractionRule,
    Problem,
    Substance,
    SubstanceAlias,
    VariabilityRule,
    normalise_name,
)
from ..models.legal import Jurisdiction, LegalStatus
from ..models.suppliers import LabLimit
from .flags import Flag


@dataclass(frozen=True)
class SubstanceInfo:
    """A substance as screening sees it. A product (issue 17) has no classes of its own and
    lists its `ingredients`; rules see `contents`: the ingredients, or the substance itself."""

    pk: int | None
    key: str
    name: str
    classes: frozenset[str]
    ingredients: tuple[SubstanceInfo, ...] = ()

    @property
    def contents(self) -> tuple[SubstanceInfo, ...]:
        return self.ingredients or (self,)

    @property
    def is_product(self) -> bool:
        return bool(self.ingredients)


@dataclass(frozen=True)
class Rule:
    code: str
    agent: str
    target: str
    category: str
    severity: str
    title: str
    advice: str
    sources: tuple[str, ...]
    problem: str = ""
    # Combination rules only: the second substance or class (None: two of `target`).
    second: str | None = None

    def as_flag(
        self, names: tuple[str, ...] = (), kind: str = "", medicines: tuple[str, ...] = ()
    ) -> Flag:
        """The raw flag this rule raises, naming what matched it (folded into its problem)
        and the medicine-list entries it involves."""
        return Flag(
            code=self.code,
            category=self.category,
            severity=self.severity,
            title=self.title,
            advice=self.advice,
            sources=self.sources,
            problem=self.problem,
            names=names,
            kind=kind,
            medicines=medicines,
        )


@dataclass(frozen=True)
class ProblemInfo:
    key: str
    title: str
    category: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SevenOhLimit:
    """The 7-OH limit a legal row sets (issue 17): any of three figures, in force or only
    proposed, and the law that sets them."""

    pct_of_alkaloids: float | None
    mg_per_g: float | None
    mg_per_serving: float | None
    status: str  # "in_force" or "proposed"
    law: str

    @property
    def in_force(self) -> bool:
        return self.status == "in_force"

    @classmethod
    def of(cls, row) -> SevenOhLimit | None:
        """The limit of a LegalStatus row, or None when it sets none."""
        figures = (
            row.seven_oh_max_pct_of_alkaloids,
            row.seven_oh_max_mg_per_g,
            row.seven_oh_max_mg_per_serving,
        )
        if all(f is None for f in figures):
            return None
        return cls(*figures, status=row.seven_oh_limit_status, law=row.seven_oh_limit_law)


@dataclass(frozen=True)
class LegalRow:
    jurisdiction: str
    place: str
    depth: int  # 0 for the place itself, 1 for its parent, 2 for the grandparent
    substance: str
    status: str
    status_label: str
    minimum_age: int | None
    summary: str
    verified_on: datetime.date
    sources: tuple[str, ...]
    seven_oh: SevenOhLimit | None = None

    @property
    def substance_label(self) -> str:
        return LegalStatus.Substance(self.substance).label


@dataclass(frozen=True)
class Limit:
    substance: str
    analyte: str
    label: str
    comparison: str
    limit: float | None
    unit: str
    required: bool
    severity: str
    sources: tuple[str, ...]
    panel: str = ""
    problem: str = ""
    pde_ug_per_day: float | None = None


@dataclass
class Knowledge:
    names: dict[str, SubstanceInfo]
    interactions: list[Rule]
    variability: list[Rule]
    combinations: list[Rule] = field(default_factory=list)
    problems: dict[str, ProblemInfo] = field(default_factory=dict)
    # Substance and class names by key ("opioid-agonists" -> "Opioid agonists").
    labels: dict[str, str] = field(default_factory=dict)
    # The jurisdiction asked about (None if unknown) and the legal rows in effect there.
    jurisdiction: str | None = None
    jurisdiction_known: bool = False
    legal: list[LegalRow] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    legal_stale_days: int = 90
    # Issue 17: names with their spaces closed up ("7oh"), each normalised name as written,
    # and every normalised name in one sequence for "did you mean".
    compact: dict[str, SubstanceInfo] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    spellings: tuple[str, ...] = ()


def _source_titles(row) -> tuple[str, ...]:
    return tuple(str(s) for s in sorted(row.sources.all(), key=lambda s: s.key))


def _rules(queryset, category: str) -> list[Rule]:
    return [
        Rule(
            code=row.code,
            agent=getattr(row, "agent", ""),
            target=getattr(row, "target_key", None) or getattr(row, "factor", ""),
            category=category,
            severity=row.severity,
            title=row.title,
            advice=row.advice,
            sources=_source_titles(row),
            problem=row.problem_key or "",
            second=getattr(row, "second_key", None),
        )
        for row in queryset.annotate(problem_key=F("problem__key")).prefetch_related("sources")
    ]


def _problems() -> dict[str, ProblemInfo]:
    """The problem catalogue (2 queries)."""
    return {
        p.key: ProblemInfo(p.key, p.title, p.category, _source_titles(p))
        for p in Problem.objects.prefetch_related("sources")
    }


def _combinations() -> list[Rule]:
    """The medicine-combination rules (2 queries)."""
    rows = CombinationRule.objects.annotate(target_key=F("first__key"), second_key=F("second__key"))
    return _rules(rows, "interaction")


@dataclass(frozen=True)
class DatedLegalRow:
    """A legal-table row as read, before it is placed relative to the patient's place."""

    jurisdiction_id: int
    effective_from: datetime.date | None
    effective_to: datetime.date | None
    row: LegalRow  # depth 0 until placed

    def in_effect_on(self, day: datetime.date) -> bool:
        """The same test as `LegalStatus.objects.in_effect_on(day)`."""
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or self.effective_to >= day
        )


@dataclass(frozen=True)
class KnowledgeBase:
    """Every knowledge row screening reads, as plain values, whatever the intake.

    Built by `load_knowledge_base` (16 queries) and held per process by `knowledge_base()`.
    Shared between requests and threads: never mutated after it is built.
    """

    names: dict[str, SubstanceInfo]
    compact: dict[str, SubstanceInfo]
    written: dict[str, str]
    spellings: tuple[str, ...]
    interactions: list[Rule]
    variability: list[Rule]
    combinations: list[Rule]
    problems: dict[str, ProblemInfo]
    labels: dict[str, str]
    # The legal table's places: code -> pk, pk -> parent pk, and (code, label) choices.
    places: dict[str, int]
    parents: dict[int, int | None]
    place_choices: list[tuple[str, str]]
    legal: list[DatedLegalRow]
    limits: list[Limit]
    # Every source by id, for the citations pages show next to each item.
    sources: dict[int, Any]

    def legal_for(self, code: str | None, on: datetime.date) -> tuple[bool, list[LegalRow]]:
        """The legal rows in effect on `on` for a place and the places above it."""
        if not code or code not in self.places:
            return False, []
        chain = [self.places[code]]
        while len(chain) < 3 and self.parents.get(chain[-1]) is not None:
            chain.append(self.parents[chain[-1]])
        depth = {pk: n for n, pk in enumerate(chain)}
        return True, [
            replace(r.row, depth=depth[r.jurisdiction_id])
            for r in self.legal
            if r.jurisdiction_id in depth and r.in_effect_on(on)
        ]


def load_knowledge_base() -> KnowledgeBase:
    """Read the whole knowledge base, the problems, legal table, lab limits and sources
    (16 queries)."""
    places = list(Jurisdiction.objects.select_related("parent").order_by("code"))
    names, written = _names()
    return KnowledgeBase(
        names=names,
        compact=_compact(names),
        written=written,
        spellings=tuple(names),
        labels={info.key: info.name for info in names.values()},
        interactions=_rules(InteractionRule.objects.annotate_target_key(), "interaction"),
        variability=_rules(VariabilityRule.objects.all(), "variability"),
        combinations=_combinations(),
        problems=_problems(),
        places={p.code: p.pk for p in places},
        parents={p.pk: p.parent_id for p in places},
        place_choices=[(p.code, p.label()) for p in places],
        legal=_legal_rows(),
        limits=_limits(),
        sources={s.pk: s for s in Source.objects.all()},
    )


def _links():
    """Every class membership and every product's ingredient, in one query (a union), so
    that products cost the knowledge base no query of its own: (link, from id, to id, to
    key, to name) rows."""
    columns = ("link", "from_substance_id", "to_substance_id", "to_substance__key")
    classes = Substance.classes.through.objects.annotate(link=Value("class")).values_list(
        *columns, "to_substance__name"
    )
    ingredients = Substance.ingredients.through.objects.annotate(
        link=Value("ingredient")
    ).values_list(*columns, "to_substance__name")
    return classes.union(ingredients, all=True)


def _names() -> tuple[dict[str, SubstanceInfo], dict[str, str]]:
    """Every alias, normalised, to its substance with its classes, or to its product with
    its ingredients (2 queries); and each normalised name as an editor wrote it."""
    classes: dict[int, set[str]] = defaultdict(set)
    parts: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for link, from_id, to_id, to_key, to_name in _links():
        if link == "class":
            classes[from_id].add(to_key)
        else:
            parts[from_id].append((to_id, to_key, to_name))

    def info(pk: int, key: str, name: str) -> SubstanceInfo:
        ingredients = tuple(
            SubstanceInfo(i_pk, i_key, i_name, frozenset(classes[i_pk]))
            for i_pk, i_key, i_name in sorted(parts[pk], key=lambda p: p[1])
        )
        return SubstanceInfo(pk, key, name, frozenset(classes[pk]), ingredients)

    names, written, bare = {}, {}, {}
    for a in SubstanceAlias.objects.select_related("substance"):
        if a.substance.kind == Substance.Kind.PRODUCT and not parts[a.substance_id]:
            # A product whose ingredients were all deleted would match and screen nothing:
            # left unmatched, it is checked by hand instead.
            continue
        found = info(a.substance_id, a.substance.key, a.substance.name)
        names[a.normalised] = found
        written[a.normalised] = a.name
        # "Acetaminophen (paracetamol)" is also found as "acetaminophen", when that is free.
        head = a.name.split(" (")[0]
        if a.name == a.substance.name and head != a.name and a.substance.kind != "drug_class":
            bare[normalise_name(head)] = (found, head)
    for name, (found, head) in bare.items():
        if name not in names:
            names[name], written[name] = found, head
    return names, written


def _compact(names: dict[str, SubstanceInfo]) -> dict[str, SubstanceInfo]:
    """Each name with its spaces closed up, where that still names one substance only:
    "7oh" and "mit 45" find "7-OH" and "MIT45"."""
    found: dict[str, SubstanceInfo | None] = {}
    for name, info in names.items():
        key = name.replace(" ", "")
        kept = found.get(key, info)
        found[key] = info if kept is not None and kept.key == info.key else None
    return {key: info for key, info in found.items() if info is not None}


def _legal_rows() -> list[DatedLegalRow]:
    """Every legal-table row with its dates, not yet placed (2 queries)."""
    return [
        DatedLegalRow(
            jurisdiction_id=r.jurisdiction_id,
            effective_from=r.effective_from,
            effective_to=r.effective_to,
            row=LegalRow(
                jurisdiction=r.jurisdiction.code,
                place=r.jurisdiction.name,
                depth=0,
                substance=r.substance,
                status=r.status,
                status_label=r.get_status_display(),
                minimum_age=r.minimum_age,
                summary=r.summary,
                verified_on=r.verified_on,
                sources=_source_titles(r),
                seven_oh=SevenOhLimit.of(r),
            ),
        )
        for r in LegalStatus.objects.select_related("jurisdiction").prefetch_related("sources")
    ]


def _limits() -> list[Limit]:
    """Every lab limit (2 queries)."""
    return [
        Limit(
            substance=r.substance,
            analyte=r.analyte,
            label=r.label,
            comparison=r.comparison,
            limit=r.limit,
            unit=r.unit,
            required=r.required,
            severity=r.severity_on_fail,
            sources=_source_titles(r),
            panel=r.panel,
            problem=r.problem_on_fail,
            pde_ug_per_day=r.pde_ug_per_day,
        )
        for r in LabLimit.objects.prefetch_related("sources")
    ]


def knowledge_base(*, token: str | None = None) -> KnowledgeBase:
    """The knowledge base, from this process's memory while the database's reference-data
    token is unchanged (one query), otherwise read again (see `checklists/refdata.py`)."""
    return refdata.cached("knowledge_base", load_knowledge_base, token=token)


def load_knowledge(
    medications: Iterable[str] = (),
    *,
    jurisdiction: str | None = None,
    on: datetime.date | None = None,
    with_limits: bool = False,
    base: KnowledgeBase | None = None,
) -> Knowledge:
    """What screening needs for one intake, picked in memory from the knowledge base: one
    query (the reference-data token) whatever the number of medications, when `base` is
    not given."""
    base = base or knowledge_base()
    known, legal = base.legal_for(jurisdiction, on or datetime.date.today())
    return Knowledge(
        names=base.names,
        compact=base.compact,
        written=base.written,
        spellings=base.spellings,
        interactions=base.interactions,
        variability=base.variability,
        combinations=base.combinations,
        problems=base.problems,
        labels=base.labels,
        jurisdiction=jurisdiction,
        jurisdiction_known=known,
        legal=legal,
        limits=base.limits if with_limits else [],
        legal_stale_days=settings.LEGAL_STALE_DAYS,
    )
