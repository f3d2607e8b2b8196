"""Interactions between kratom or melatonin and the medicines the patient takes."""

from __future__ import annotations

from ...models.content import Severity
from ..flags import Flag
from ..intake import Intake
from ..knowledge import Knowledge, Rule, SubstanceInfo
from ..matching import MedicationMatch, contents
from .combinations import medicine_label


def interaction_flags(
    intake: Intake, matches: list[MedicationMatch], knowledge: Knowledge
) -> list[Flag]:
    """One flag per rule hit, naming every medicine that hit it; a product hits the rules
    of each of its ingredients (issue 17). The medicines it involves are those and any
    entry that is itself use of the rule's agent ("7-OH tablets" for kratom)."""
    # The entries that are themselves use of each agent, found once, not once per rule hit.
    agent_use = {a: [m.typed for m in matches if a in m.agents] for a in intake.substances}
    hits: dict[str, tuple[Rule, list[str], list[str]]] = {}
    for match, substance in contents(matches):
        for agent in sorted(intake.substances):
            for rule in _rules_for(agent, substance, knowledge):
                _, labels, typed = hits.setdefault(rule.code, (rule, [], []))
                labels.append(medicine_label(match, substance, knowledge, rule))
                typed.append(match.typed)
    return [
        rule.as_flag(
            (*dict.fromkeys(labels), rule.agent),
            kind="medicine",
            medicines=tuple(dict.fromkeys(typed + agent_use.get(rule.agent, []))),
        )
        for rule, labels, typed in hits.values()
    ]


def _rules_for(agent: str, substance: SubstanceInfo, knowledge: Knowledge) -> list[Rule]:
    """The rules of `agent` for the substance itself or any class it belongs to."""
    rules = [
        r
        for r in knowledge.interactions
        if r.agent == agent and (r.target == substance.key or r.target in substance.classes)
    ]
    specific = [r for r in rules if r.target == substance.key]
    if specific:
        # The substance's own rule speaks for it; class rules no more serious are noise.
        floor = min(Severity.rank(r.severity) for r in specific)
        rules = specific + [
            r for r in rules if r.target != substance.key and Severity.rank(r.severity) < floor
        ]
    return rules
