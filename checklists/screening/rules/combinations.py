"""The patient's own medicines with each other, when kratom or melatonin is in the picture
(issue 16): an opioid with a benzodiazepine or another CNS depressant, two serotonergic
medicines, two that lower the seizure threshold, a CYP2D6 inhibitor with an opioid that
CYP2D6 activates. The rules are data (`CombinationRule`, content/knowledge/combinations.json).
A product counts as each of its ingredients (issue 17): promethazine with codeine is an
opioid and a sedating antihistamine, in one bottle."""

from __future__ import annotations

from ..flags import Flag
from ..intake import Intake
from ..knowledge import Knowledge, Rule, SubstanceInfo
from ..matching import MedicationMatch, contents

# One substance a medicine contains, with the medicine it came from.
Hit = tuple[MedicationMatch, SubstanceInfo]
# How much of a medicine as typed a label quotes ("... in Fioricet with Codeine 30 mg").
TYPED_IN_LABEL = 60


def combination_flags(
    intake: Intake, matches: list[MedicationMatch], knowledge: Knowledge
) -> list[Flag]:
    """One flag per rule whose medicines are all in the list (two different ones)."""
    if not intake.substances:
        return []
    found = list(contents(matches))
    flags = []
    for rule in knowledge.combinations:
        named = _members(rule, found)
        if named:
            labels = tuple(medicine_label(m, s, knowledge, rule) for m, s in named)
            typed = tuple(dict.fromkeys(m.typed for m, _ in named))
            flags.append(rule.as_flag(labels, kind="combination", medicines=typed))
    return flags


def _is(substance: SubstanceInfo, key: str) -> bool:
    return substance.key == key or key in substance.classes


def _members(rule: Rule, found: list[Hit]) -> list[Hit]:
    """The medicines that make the combination, one per substance; [] when it is not met."""
    firsts = _distinct(h for h in found if _is(h[1], rule.target))
    if rule.second is None:
        return firsts if len(firsts) >= 2 else []
    seconds = _distinct(h for h in found if _is(h[1], rule.second))
    pairs = [(a, b) for a in firsts for b in seconds if a[1].key != b[1].key]
    if not pairs:
        return []
    return _distinct([a for a, _ in pairs] + [b for _, b in pairs])


def _distinct(hits) -> list[Hit]:
    seen: dict[str, Hit] = {}
    for hit in hits:
        seen.setdefault(hit[1].key, hit)
    return list(seen.values())


def medicine_label(
    match: MedicationMatch, substance: SubstanceInfo, knowledge: Knowledge, rule: Rule
) -> str:
    """ "Tramadol (opioid agonists)": the substance as matched, with the class the rule
    names it for when that is a class; an ingredient of a product also names the medicine
    as typed: "Codeine (opioid agonists, in Fioricet with Codeine)"."""
    notes = []
    for key in (rule.target, rule.second):
        if key and key != substance.key and key in substance.classes:
            label = knowledge.labels.get(key, key)
            if label[1:2].islower():
                label = label[:1].lower() + label[1:]
            notes.append(label)
            break
    if match.substance is not None and match.substance.is_product:
        typed = match.typed.strip()
        if len(typed) > TYPED_IN_LABEL:
            typed = typed[: TYPED_IN_LABEL - 1].rstrip() + "…"
        notes.append(f"in {typed}")
    return f"{substance.name} ({', '.join(notes)})" if notes else substance.name
