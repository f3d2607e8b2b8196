"""The screening engine: the only place that decides what is flagged.

An intake (substances in use, medications, age, factors, jurisdiction, products) goes in,
graded flags come out. The engine reads the knowledge tables (through `load_knowledge`)
but never writes, and knows nothing of requests. Views, exports and the `screen` command
all call it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .conditions import effective_answers
from .models.content import Severity
from .models.knowledge import (
    Agent,
    InteractionRule,
    Substance,
    SubstanceAlias,
    VariabilityRule,
    normalise_name,
)

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
}


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
    return Intake(
        on=on,
        substances=frozenset(substances),
        medications=tuple(medications),
        age_years=age,
        factors=frozenset(factors),
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
        products=tuple(products),
    )


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
    if birth_year:
        if on.year - birth_year - 1 < 18:
            factors.add(VariabilityRule.Factor.UNDER_18)
        if on.year - birth_year >= 65:
            factors.add(VariabilityRule.Factor.AGE_65_PLUS)
    return Intake(
        on=on,
        substances=frozenset(substances),
        medications=tuple(medications),
        factors=frozenset(factors),
        jurisdiction=jurisdiction,
        products=products,
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


@dataclass
class Knowledge:
    names: dict[str, SubstanceInfo]
    interactions: list[Rule]
    variability: list[Rule]


_WORD = re.compile(r"[a-z0-9]+")


def candidate_names(text: str) -> list[str]:
    """Every run of 1 to 4 consecutive words, longest first: where a name may hide among
    doses and frequencies ("OxyContin 20mg BID" → ... "oxycontin", "20mg", "bid")."""
    words = _WORD.findall(text.lower())
    runs = []
    for size in range(min(MAX_NGRAM, len(words)), 0, -1):
        runs += [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return runs


def _rules(queryset, category: str) -> list[Rule]:
    rules = []
    for row in queryset.prefetch_related("sources"):
        rules.append(
            Rule(
                code=row.code,
                agent=row.agent,
                target=getattr(row, "target_key", None) or getattr(row, "factor", ""),
                category=category,
                severity=row.severity,
                title=row.title,
                advice=row.advice,
                sources=tuple(str(s) for s in sorted(row.sources.all(), key=lambda s: s.key)),
            )
        )
    return rules


def load_knowledge(medications: Iterable[str] = ()) -> Knowledge:
    """Read what screening needs, in six queries whatever the number of medications."""
    candidates = {run for text in medications for run in candidate_names(text)}
    aliases = list(
        SubstanceAlias.objects.filter(normalised__in=candidates).select_related("substance")
    )
    matched_ids = {a.substance_id for a in aliases}
    classes: dict[int, set[str]] = {i: set() for i in matched_ids}
    links = Substance.classes.through.objects.filter(from_substance_id__in=matched_ids)
    for from_id, class_key in links.values_list("from_substance_id", "to_substance__key"):
        classes[from_id].add(class_key)
    names = {
        a.normalised: SubstanceInfo(
            a.substance_id, a.substance.key, a.substance.name, frozenset(classes[a.substance_id])
        )
        for a in aliases
    }
    interactions = _rules(InteractionRule.objects.annotate_target_key(), "interaction")
    variability = _rules(VariabilityRule.objects.all(), "variability")
    return Knowledge(names=names, interactions=interactions, variability=variability)


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


def screen(intake: Intake, knowledge: Knowledge | None = None) -> ScreeningResult:
    """All flags an intake raises, most serious first, and what each medication matched."""
    knowledge = knowledge or load_knowledge(intake.medications)
    matches = [match_medication(text, knowledge) for text in intake.medications]
    flags = _interaction_flags(intake, matches, knowledge) + _variability_flags(intake, knowledge)
    for match in matches:
        if not match.matched:
            flags.append(_unmatched_flag(match.typed))
    return ScreeningResult(flags=sort_flags(flags), matches=matches)


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
