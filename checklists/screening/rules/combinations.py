"""The patient's own medicines with each other, when kratom or melatonin is in the picture
(issue 16): an opioid with a benzodiazepine or another CNS depressant, two serotonergic
medicines, two that lower the seizure threshold, a CYP2D6 inhibitor with an opioid that
CYP2D6 activates. The rules are data (`CombinationRule`, content/knowledge/combinations.json)."""

from __future__ import annotations

from ..flags import Flag
from ..intake import Intake
from ..knowledge import Knowledge, Rule
from ..matching import MedicationMatch


def combination_flags(
    intake: Intake, matches: list[MedicationMatch], knowledge: Knowledge
) -> list[Flag]:
    """One flag per rule whose medicines are all in the list (two different ones)."""
    if not intake.substances:
        return []
    found = [m for m in matches if m.substance is not None]
    flags = []
    for rule in knowledge.combinations:
        named = _members(rule, found)
        if named:
            labels = tuple(medicine_label(m, knowledge, rule) for m in named)
            flags.append(rule.as_flag(labels, kind="combination"))
    return flags


def _is(match: MedicationMatch, key: str) -> bool:
    return match.substance.key == key or key in match.substance.classes


def _members(rule: Rule, found: list[MedicationMatch]) -> list[MedicationMatch]:
    """The medicines that make the combination, one per substance; [] when it is not met."""
    firsts = _distinct(m for m in found if _is(m, rule.target))
    if rule.second is None:
        return firsts if len(firsts) >= 2 else []
    seconds = _distinct(m for m in found if _is(m, rule.second))
    pairs = [(a, b) for a in firsts for b in seconds if a.substance.key != b.substance.key]
    if not pairs:
        return []
    return _distinct([a for a, _ in pairs] + [b for _, b in pairs])


def _distinct(matches) -> list[MedicationMatch]:
    seen: dict[str, MedicationMatch] = {}
    for m in matches:
        seen.setdefault(m.substance.key, m)
    return list(seen.values())


def medicine_label(match: MedicationMatch, knowledge: Knowledge, rule: Rule) -> str:
    """ "Tramadol (opioid agonists)": the medicine as matched, with the class the rule
    names it for when that is a class."""
    name = match.substance.name
    for key in (rule.target, rule.second):
        if key and key != match.substance.key and key in match.substance.classes:
            label = knowledge.labels.get(key, key)
            if label[1:2].islower():
                label = label[:1].lower() + label[1:]
            return f"{name} ({label})"
    return name
