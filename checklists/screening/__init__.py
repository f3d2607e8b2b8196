"""The screening engine: the only place that decides what is flagged.

An intake (substances in use, medications, age, factors, jurisdiction, products) goes in,
graded flags come out. The engine reads the knowledge tables (through `load_knowledge`)
but never writes, and knows nothing of requests. Views, exports and the `screen` command
all call it.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.conf import settings

from . import refdata
from .conditions import effective_answers
from .models.content import Severity, Source
from .models.knowledge import (
    Agent,
    InteractionRule,
    Substance,
    SubstanceAlias,
    VariabilityRule,
    normalise_name,
)
from .models.legal import Jurisdiction, LegalStatus
from .models.suppliers import LabLimit

NEEDS_ACKNOWLEDGEMENT = (Severity.CONTRAINDICATED, Severity.MAJOR)
AGENTS = frozenset(Agent.values)
FACTORS = frozenset(VariabilityRule.Factor.values) - {VariabilityRule.Factor.COMBINATION}
MAX_NGRAM = 4


@dataclass(frozen=True)
class Flag:
    code: str
    category: str
    severity: str
    title: str
    advice: str
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def needs_acknowledgement(self) -> bool:
        return self.severity in NEEDS_ACKNOWLEDGEMENT

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        return cls(**{**data, "sources": tuple(data.get("sources", ()))})


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Most serious first, then by code; a code appears once (its most serious flag)."""
    unique: dict[str, Flag] = {}
    for flag in flags:
        kept = unique.get(flag.code)
        if kept is None or Severity.rank(flag.severity) < Severity.rank(kept.severity):
            unique[flag.code] = flag
    return sorted(unique.values(), key=lambda f: (Severity.rank(f.severity), f.code))


# ---------------------------------------------------------------------------- intake


class IntakeError(ValueError):
    """An intake that cannot be screened; the message says which key is wrong."""


@dataclass(frozen=True)
class Intake:
    on: datetime.date
    substances: frozenset[str] = frozenset()
    medications: tuple[str, ...] = ()
    age_years: int | None = None
    factors: frozenset[str] = frozenset()
    jurisdiction: str | None = None
    products: tuple[Mapping[str, Any], ...] = ()
    # The clinician's own check of the law: {"consulted": text, "on": date} or None.
    legal_check: Mapping[str, Any] | None = None

    def all_factors(self) -> frozenset[str]:
        """The factors given, plus the age bands the age implies."""
        derived = set(self.factors)
        if self.age_years is not None:
            if self.age_years < 18:
                derived.add(VariabilityRule.Factor.UNDER_18)
            if self.age_years >= 65:
                derived.add(VariabilityRule.Factor.AGE_65_PLUS)
        return frozenset(derived)


INTAKE_KEYS = {
    "on",
    "substances",
    "medications",
    "age_years",
    "factors",
    "jurisdiction",
    "products",
    "legal_check",
}
PRODUCT_KEYS = {"name", "substance", "form", "label_lot", "label_amount_mg", "coa"}
COA_KEYS = {"lot", "tested_on", "lab_accredited", "results"}


def _string_list(data: Mapping, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IntakeError(f"'{key}' must be a list of strings.")
    return value


def parse_intake(data: Any, *, today: datetime.date) -> Intake:
    """Validate a JSON intake (DESIGN.md, "The screening engine") into an Intake."""
    if not isinstance(data, dict):
        raise IntakeError("The intake must be a JSON object.")
    unknown = sorted(set(data) - INTAKE_KEYS)
    if unknown:
        raise IntakeError(
            f"Unknown key(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(INTAKE_KEYS))}."
        )
    on = today
    if "on" in data:
        try:
            on = datetime.date.fromisoformat(data["on"])
        except (TypeError, ValueError):
            raise IntakeError("'on' must be a date written YYYY-MM-DD.") from None
    substances = [s.strip().lower() for s in _string_list(data, "substances")]
    bad = sorted(set(substances) - AGENTS)
    if bad:
        raise IntakeError(f"Unknown substance(s): {', '.join(bad)}. Allowed: kratom, melatonin.")
    medications = [m.strip() for m in _string_list(data, "medications") if m.strip()]
    if len(medications) > 100 or any(len(m) > 200 for m in medications):
        raise IntakeError("'medications' takes at most 100 names of at most 200 characters.")
    factors = _string_list(data, "factors")
    bad = sorted(set(factors) - FACTORS)
    if bad:
        raise IntakeError(
            f"Unknown factor code(s): {', '.join(bad)}. Allowed: {', '.join(sorted(FACTORS))}."
        )
    age = data.get("age_years")
    if age is not None and (
        isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 130
    ):
        raise IntakeError("'age_years' must be a whole number from 0 to 130.")
    jurisdiction = data.get("jurisdiction")
    if jurisdiction is not None and (not isinstance(jurisdiction, str) or len(jurisdiction) > 60):
        raise IntakeError("'jurisdiction' must be a code such as US-AL or GB.")
    products = data.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
        raise IntakeError("'products' must be a list of objects.")
    products = [_parse_product(p, n) for n, p in enumerate(products, start=1)]
    legal_check = data.get("legal_check")
    if legal_check is not None:
        if not isinstance(legal_check, dict) or set(legal_check) != {"consulted", "on"}:
            raise IntakeError('\'legal_check\' must be {"consulted": text, "on": date}.')
        legal_check = {
            "consulted": str(legal_check["consulted"]),
            "on": _date(legal_check["on"], "legal_check.on"),
        }
    return Intake(
        on=on,
        substances=frozenset(substances),
        medications=tuple(medications),
        age_years=age,
        factors=frozenset(factors),
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
        products=tuple(products),
        legal_check=legal_check,
    )


def _date(value: Any, where: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise IntakeError(f"'{where}' must be a date written YYYY-MM-DD.") from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise IntakeError(f"'{where}' must be a number.")
    return float(value)


def _parse_product(product: dict, n: int) -> dict:
    where = f"products[{n - 1}]"
    unknown = sorted(set(product) - PRODUCT_KEYS)
    if unknown:
        raise IntakeError(f"{where}: unknown key(s) {', '.join(unknown)}.")
    if product.get("substance") not in AGENTS:
        raise IntakeError(f"{where}.substance must be kratom or melatonin.")
    parsed = dict(product)
    if "label_amount_mg" in product and product["label_amount_mg"] is not None:
        parsed["label_amount_mg"] = _number(product["label_amount_mg"], f"{where}.label_amount_mg")
    coa = product.get("coa")
    if coa is not None:
        if not isinstance(coa, dict) or set(coa) - COA_KEYS:
            keys = ", ".join(sorted(COA_KEYS))
            raise IntakeError(f"{where}.coa must be an object with keys {keys}.")
        parsed["coa"] = dict(coa)
        if coa.get("tested_on") is not None:
            parsed["coa"]["tested_on"] = _date(coa["tested_on"], f"{where}.coa.tested_on")
        results = coa.get("results", {})
        if not isinstance(results, dict):
            raise IntakeError(f"{where}.coa.results must be an object.")
        for analyte, value in results.items():
            if not isinstance(value, str):
                _number(value, f"{where}.coa.results.{analyte}")
    return parsed


def intake_from_answers(
    items: Iterable,
    answers: Mapping[str, Any],
    *,
    on: datetime.date,
    birth_year: int | None = None,
) -> Intake:
    """Build an intake from a checklist's answers, using each item's `screening` mapping.

    Roles: "substances" and "factors" map answer codes to agents or factor codes;
    "medications" takes the medication rows; "jurisdiction" and "products" pass through.
    A birth year on the case adds the age bands it may imply (youngest and oldest
    possible age, so an 18th birthday later this year still counts as under 18).
    """
    items = list(items)
    answers = effective_answers(items, answers)
    substances: set[str] = set()
    factors: set[str] = set()
    medications: list[str] = []
    jurisdiction, products = None, ()
    legal_source, legal_date = None, None
    for item in items:
        rule, value = item.screening, answers.get(item.key)
        if not rule or value is None:
            continue
        role = rule["role"]
        chosen = value if isinstance(value, list) else [value]
        if role == "substances":
            substances.update(rule["map"][c] for c in chosen if c in rule["map"])
        elif role == "factors":
            factors.update(rule["map"][c] for c in chosen if c in rule["map"])
        elif role == "medications":
            medications.extend(row["name"] for row in value if row.get("name"))
        elif role == "jurisdiction":
            jurisdiction = value
        elif role == "products":
            products = tuple(value)
        elif role == "legal_check_source":
            legal_source = value
        elif role == "legal_check_date":
            legal_date = value
    legal_check = None
    if legal_source and legal_date:
        try:
            legal_check = {"consulted": legal_source, "on": datetime.date.fromisoformat(legal_date)}
        except (TypeError, ValueError):
            legal_check = None
    age = None
    if birth_year:
        # The youngest the patient can be: a birthday later this year still counts.
        age = max(on.year - birth_year - 1, 0)
        if on.year - birth_year >= 65:
            factors.add(VariabilityRule.Factor.AGE_65_PLUS)
    return Intake(
        on=on,
        substances=frozenset(substances),
        medications=tuple(medications),
        age_years=age,
        factors=frozenset(factors),
        jurisdiction=jurisdiction,
        products=products,
        legal_check=legal_check,
    )


# ---------------------------------------------------------------------------- knowledge


@dataclass(frozen=True)
class SubstanceInfo:
    pk: int | None
    key: str
    name: str
    classes: frozenset[str]


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


@dataclass
class Knowledge:
    names: dict[str, SubstanceInfo]
    interactions: list[Rule]
    variability: list[Rule]
    # The jurisdiction asked about (None if unknown) and the legal rows in effect there.
    jurisdiction: str | None = None
    jurisdiction_known: bool = False
    legal: list[LegalRow] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    legal_stale_days: int = 90


_WORD = re.compile(r"[a-z0-9]+")


def candidate_names(text: str) -> list[str]:
    """Every run of 1 to 4 consecutive words, longest first: where a name may hide among
    doses and frequencies ("OxyContin 20mg BID" → ... "oxycontin", "20mg", "bid")."""
    words = _WORD.findall(text.lower())
    runs = []
    for size in range(min(MAX_NGRAM, len(words)), 0, -1):
        runs += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return runs


def _source_titles(row) -> tuple[str, ...]:
    return tuple(str(s) for s in sorted(row.sources.all(), key=lambda s: s.key))


def _rules(queryset, category: str) -> list[Rule]:
    return [
        Rule(
            code=row.code,
            agent=row.agent,
            target=getattr(row, "target_key", None) or getattr(row, "factor", ""),
            category=category,
            severity=row.severity,
            title=row.title,
            advice=row.advice,
            sources=_source_titles(row),
        )
        for row in queryset.prefetch_related("sources")
    ]


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

    Built by `load_knowledge_base` (12 queries) and held per process by `knowledge_base()`.
    Shared between requests and threads: never mutated after it is built.
    """

    names: dict[str, SubstanceInfo]
    interactions: list[Rule]
    variability: list[Rule]
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
    """Read the whole knowledge base, legal table, lab limits and sources (12 queries)."""
    classes: dict[int, set[str]] = defaultdict(set)
    links = Substance.classes.through.objects.values_list("from_substance_id", "to_substance__key")
    for from_id, class_key in links:
        classes[from_id].add(class_key)
    names = {
        a.normalised: SubstanceInfo(
            a.substance_id, a.substance.key, a.substance.name, frozenset(classes[a.substance_id])
        )
        for a in SubstanceAlias.objects.select_related("substance")
    }
    places = list(Jurisdiction.objects.select_related("parent").order_by("code"))
    legal = [
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
            ),
        )
        for r in LegalStatus.objects.select_related("jurisdiction").prefetch_related("sources")
    ]
    limits = [
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
        )
        for r in LabLimit.objects.prefetch_related("sources")
    ]
    return KnowledgeBase(
        names=names,
        interactions=_rules(InteractionRule.objects.annotate_target_key(), "interaction"),
        variability=_rules(VariabilityRule.objects.all(), "variability"),
        places={p.code: p.pk for p in places},
        parents={p.pk: p.parent_id for p in places},
        place_choices=[(p.code, p.label()) for p in places],
        legal=legal,
        limits=limits,
        sources={s.pk: s for s in Source.objects.all()},
    )


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
        interactions=base.interactions,
        variability=base.variability,
        jurisdiction=jurisdiction,
        jurisdiction_known=known,
        legal=legal,
        limits=base.limits if with_limits else [],
        legal_stale_days=settings.LEGAL_STALE_DAYS,
    )


# ---------------------------------------------------------------------------- screening


@dataclass(frozen=True)
class MedicationMatch:
    typed: str
    substance: SubstanceInfo | None

    @property
    def matched(self) -> bool:
        return self.substance is not None


@dataclass
class ScreeningResult:
    flags: list[Flag]
    matches: list[MedicationMatch]
    # The legal rows in effect at the patient's jurisdiction (and the places above it).
    legal: list[LegalRow] = field(default_factory=list)
    legal_stale_days: int = 90

    @property
    def unmatched(self) -> list[str]:
        return [m.typed for m in self.matches if not m.matched]


def match_medication(text: str, knowledge: Knowledge) -> MedicationMatch:
    for run in candidate_names(text):
        found = knowledge.names.get(normalise_name(run))
        if found is not None:
            return MedicationMatch(text, found)
    return MedicationMatch(text, None)


def _flag(rule: Rule, title: str | None = None) -> Flag:
    return Flag(
        code=rule.code,
        category=rule.category,
        severity=rule.severity,
        title=title or rule.title,
        advice=rule.advice,
        sources=rule.sources,
    )


def _interaction_flags(
    intake: Intake, matches: list[MedicationMatch], knowledge: Knowledge
) -> list[Flag]:
    hits: dict[str, tuple[Rule, list[str]]] = {}
    for match in matches:
        if match.substance is None:
            continue
        for agent in sorted(intake.substances):
            rules = [
                r
                for r in knowledge.interactions
                if r.agent == agent
                and (r.target == match.substance.key or r.target in match.substance.classes)
            ]
            specific = [r for r in rules if r.target == match.substance.key]
            if specific:
                # The substance's own rule speaks for it; class rules no more serious are noise.
                floor = min(Severity.rank(r.severity) for r in specific)
                rules = specific + [
                    r
                    for r in rules
                    if r.target != match.substance.key and Severity.rank(r.severity) < floor
                ]
            for rule in rules:
                hits.setdefault(rule.code, (rule, []))[1].append(match.typed)
    return [
        _flag(rule, f"{rule.title} (medication: {', '.join(typed)})")
        for rule, typed in hits.values()
    ]


def _variability_flags(intake: Intake, knowledge: Knowledge) -> list[Flag]:
    factors = intake.all_factors()
    both = intake.substances >= AGENTS
    flags = []
    for rule in knowledge.variability:
        if rule.target == VariabilityRule.Factor.COMBINATION:
            if both:
                flags.append(
                    Flag(
                        code=rule.code,
                        category="interaction",
                        severity=rule.severity,
                        title=rule.title,
                        advice=rule.advice,
                        sources=rule.sources,
                    )
                )
            continue
        applies = rule.agent in intake.substances or (
            rule.agent == VariabilityRule.ANY and intake.substances
        )
        if applies and rule.target in factors:
            flags.append(_flag(rule))
    return flags


# ---------------------------------------------------------------------------- legal


def _legal_substances(intake: Intake) -> list[str]:
    wanted = []
    if Agent.KRATOM in intake.substances:
        wanted.append("kratom")
        if any(p.get("form") == "concentrated_7oh" for p in intake.products):
            wanted.append("seven_oh")
    if Agent.MELATONIN in intake.substances:
        wanted.append("melatonin")
    return wanted


def _own_check_is_current(intake: Intake, stale_days: int) -> bool:
    check = intake.legal_check
    if not check or not str(check.get("consulted", "")).strip():
        return False
    age = (intake.on - check["on"]).days
    return 0 <= age <= stale_days


def legal_flags(intake: Intake, knowledge: Knowledge) -> list[Flag]:
    """Banned → contraindicated; under the minimum age → major; unclear, unknown or stale
    (verified more than LEGAL_STALE_DAYS ago) → major until the clinician records their
    own check of the law (what they consulted, and when)."""
    code = intake.jurisdiction
    if not code:
        return []
    substances = _legal_substances(intake)
    checked = _own_check_is_current(intake, knowledge.legal_stale_days)
    youngest = intake.age_years
    if youngest is None and VariabilityRule.Factor.UNDER_18 in intake.factors:
        youngest = 17
    flags: list[Flag] = []
    for substance in substances:
        rows = sorted(
            (r for r in knowledge.legal if r.substance == substance), key=lambda r: r.depth
        )
        label = LegalStatus.Substance(substance).label
        for row in rows:
            if row.status == LegalStatus.Status.BANNED:
                flags.append(
                    Flag(
                        code=f"legal:banned:{row.jurisdiction}:{substance}",
                        category="legal",
                        severity=Severity.CONTRAINDICATED,
                        title=f"{label}: banned in {row.place}",
                        advice=f"{row.summary} Advise the patient that possessing or buying "
                        "it there is unlawful, and plan care without it.",
                        sources=row.sources,
                    )
                )
            if row.minimum_age and youngest is not None and youngest < row.minimum_age:
                flags.append(
                    Flag(
                        code=f"legal:under-minimum-age:{row.jurisdiction}:{substance}",
                        category="legal",
                        severity=Severity.MAJOR,
                        title=f"{label}: the patient may be under the minimum age "
                        f"({row.minimum_age}) in {row.place}",
                        advice=f"{row.summary} Confirm the patient's age; under the minimum age, "
                        "sale to them is not allowed there.",
                        sources=row.sources,
                    )
                )
        nearest = rows[0] if rows else None
        if substance == "melatonin" and nearest is None:
            continue  # no melatonin row: nothing recorded to warn about
        reason = None
        if not knowledge.jurisdiction_known:
            reason = f"{code} is not in the legal table"
        elif nearest is None:
            reason = "the legal table has no entry for it here"
        elif nearest.status == LegalStatus.Status.UNCLEAR:
            reason = f"the legal table marks it unclear in {nearest.place}"
        elif (intake.on - nearest.verified_on).days > knowledge.legal_stale_days:
            reason = (
                f"the entry for {nearest.place} was last verified on "
                f"{nearest.verified_on.isoformat()}, more than "
                f"{knowledge.legal_stale_days} days before this checklist"
            )
        if reason and not checked:
            flags.append(
                Flag(
                    code=f"legal:unverified:{code}:{substance}",
                    category="legal",
                    severity=Severity.MAJOR,
                    title=f"{label}: legal status not verified ({reason})",
                    advice="Check the current statute or regulator's notice for the patient's "
                    "state and locality, then record what you consulted and the date in "
                    "the legal verification section.",
                    sources=nearest.sources if nearest else (),
                )
            )
        elif reason and checked:
            flags.append(
                Flag(
                    code=f"legal:clinician-verified:{code}:{substance}",
                    category="legal",
                    severity=Severity.INFO,
                    title=f"{label}: legal status checked by the clinician",
                    advice=f"Consulted: {intake.legal_check['consulted']} on "
                    f"{intake.legal_check['on'].isoformat()} ({reason}).",
                    sources=nearest.sources if nearest else (),
                )
            )
        if nearest is not None and nearest.status in (
            LegalStatus.Status.REGULATED,
            LegalStatus.Status.AGE_RESTRICTED,
        ):
            flags.append(
                Flag(
                    code=f"legal:rules:{nearest.jurisdiction}:{substance}",
                    category="legal",
                    severity=Severity.INFO,
                    title=f"{label}: {nearest.status_label} in {nearest.place}",
                    advice=nearest.summary,
                    sources=nearest.sources,
                )
            )
    return flags


# ---------------------------------------------------------------------------- lab

ABSENT_WORDS = {"absent", "not detected", "negative", "nd", "none detected"}
COA_MAX_AGE_DAYS = 365


def _same_lot(a: Any, b: Any) -> bool:
    return (
        bool(a) and bool(b) and "".join(str(a).split()).upper() == "".join(str(b).split()).upper()
    )


def _limit_fails(limit: Limit, value: Any, product: Mapping[str, Any]) -> bool | None:
    """True when the result breaks the limit; None when it cannot be judged."""
    if limit.comparison == "absent":
        return str(value).strip().lower() not in ABSENT_WORDS
    if isinstance(value, str):
        return None
    if limit.comparison == "below":
        return value >= limit.limit
    if limit.comparison in ("max", "max_pct_of_alkaloids"):
        return value > limit.limit
    if limit.comparison == "within_pct_of_label":
        label = product.get("label_amount_mg")
        if not label:
            return None
        return abs(value - label) / label * 100 > limit.limit
    return False  # "required": any reported value passes


def lab_flags(intake: Intake, limits: list[Limit]) -> list[Flag]:
    """The supplier lab-testing checks of each product against its lot's COA."""
    flags: list[Flag] = []
    for n, product in enumerate(intake.products, start=1):
        key = "".join(str(product.get("label_lot") or f"product-{n}").split())[:60]
        name = product.get("name") or f"{product.get('substance', 'product')} product {n}"
        where = f"{name} (lot {product.get('label_lot') or 'not recorded'})"

        def add(
            check: str, severity: str, title: str, advice: str, sources=(), _key=key, _where=where
        ) -> None:
            flags.append(
                Flag(
                    code=f"lab:{_key}:{check}",
                    category="lab",
                    severity=severity,
                    title=f"{title}: {_where}",
                    advice=advice,
                    sources=tuple(sources),
                )
            )

        if product.get("form") == "concentrated_7oh":
            add(
                "concentrated-7oh",
                Severity.CONTRAINDICATED,
                "Concentrated 7-OH product",
                "Concentrated or semi-synthetic 7-OH products act like potent opioids and are "
                "being scheduled in several places. Advise stopping, and assess for opioid "
                "dependence before doing so.",
            )
        coa = product.get("coa")
        if not coa:
            add(
                "no-coa",
                Severity.MAJOR,
                "No certificate of analysis for this lot",
                "Ask the supplier for the lot-specific COA from an independent accredited lab, "
                "or advise a product whose lot has one.",
            )
            continue
        if not _same_lot(coa.get("lot"), product.get("label_lot")):
            add(
                "lot-mismatch",
                Severity.MAJOR,
                "The COA is not for the lot on the label",
                f"The COA names lot {coa.get('lot') or 'none'}; the label says "
                f"{product.get('label_lot') or 'nothing'}. A COA for another lot says nothing "
                "about this one.",
            )
        tested = coa.get("tested_on")
        if tested is None or (intake.on - tested).days > COA_MAX_AGE_DAYS:
            add(
                "coa-old",
                Severity.MODERATE,
                "The COA is older than 12 months or undated",
                "Ask for a current certificate; products and contamination change between "
                "batches and over time.",
            )
        if not coa.get("lab_accredited"):
            add(
                "lab-not-accredited",
                Severity.MODERATE,
                "The testing lab's ISO/IEC 17025 accreditation is missing or unknown",
                "Prefer results from an independent lab accredited for these methods.",
            )
        results = coa.get("results") or {}
        for limit in limits:
            if limit.substance != product.get("substance"):
                continue
            value = results.get(limit.analyte)
            if value is None or value == "":
                if limit.required:
                    add(
                        f"missing:{limit.analyte}",
                        Severity.MODERATE,
                        f"No result for {limit.label}",
                        "Ask the supplier for a COA that reports this analyte.",
                        limit.sources,
                    )
                continue
            if _limit_fails(limit, value, product):
                shown = f"{value} {limit.unit}".strip()
                add(
                    limit.analyte,
                    limit.severity,
                    f"{limit.label} outside its limit ({shown})",
                    "Advise the patient not to use this lot and to return or discard it.",
                    limit.sources,
                )
    return flags


UNMATCHED_ADVICE = (
    "This medicine did not match any name the knowledge base holds. Check it for "
    "interactions with kratom and melatonin yourself (pharmacist, interaction reference) "
    "and record what you found in the notes."
)


def _unmatched_flag(typed: str) -> Flag:
    slug = normalise_name(typed).replace(" ", "-")[:80]
    return Flag(
        code=f"medication:unmatched:{slug}",
        category="interaction",
        severity=Severity.INFO,
        title=f"Not in the knowledge base: check by hand ({typed})",
        advice=UNMATCHED_ADVICE,
    )


def screen(
    intake: Intake, knowledge: Knowledge | None = None, *, base: KnowledgeBase | None = None
) -> ScreeningResult:
    """All flags an intake raises, most serious first, and what each medication matched."""
    knowledge = knowledge or load_knowledge(
        intake.medications,
        jurisdiction=intake.jurisdiction,
        on=intake.on,
        with_limits=bool(intake.products),
        base=base,
    )
    matches = [match_medication(text, knowledge) for text in intake.medications]
    flags = (
        _interaction_flags(intake, matches, knowledge)
        + _variability_flags(intake, knowledge)
        + legal_flags(intake, knowledge)
        + lab_flags(intake, knowledge.limits)
    )
    for match in matches:
        if not match.matched:
            flags.append(_unmatched_flag(match.typed))
    return ScreeningResult(
        flags=sort_flags(flags),
        matches=matches,
        legal=sorted(knowledge.legal, key=lambda r: (r.depth, r.substance)),
        legal_stale_days=knowledge.legal_stale_days,
    )


def item_caution_flags(
    items: Iterable, answers: Mapping[str, Any], source_titles: Mapping[int, list[str]]
) -> list[Flag]:
    """Flags raised by the checklist's own items: an answer among an item's caution codes.

    `source_titles` maps item id to the titles of the sources it cites. Answers to hidden
    items are ignored.
    """
    items = list(items)
    answers = effective_answers(items, answers)
    flags = []
    for item in items:
        caution = item.caution
        if not caution or item.key not in answers:
            continue
        value = answers[item.key]
        chosen = set(value) if isinstance(value, list) else {value}
        if chosen & set(caution.get("when", [])):
            flags.append(
                Flag(
                    code=f"item:{item.key}",
                    category=caution.get("category", "checklist"),
                    severity=caution["severity"],
                    title=caution.get("title") or item.prompt,
                    advice=caution["advice"],
                    sources=tuple(source_titles.get(item.id, ())),
                )
            )
    return sort_flags(flags)
