"""Interactions between kratom or melatonin and the medicines the patient takes."""

from __future__ import annotations

from ...models.content import Severity
from ..flags import Flag
from ..intake import Intake
from ..knowledge import Knowledge, Rule
from ..matching import MedicationMatch
from .combinations import medicine_label


def interaction_flags(
    intake: Intake, matches: list[MedicationMatch], knowledge: Knowledge
) -> list[Flag]:
    """One flag per rule hit, naming every medicine that hit it."""
    hits: dict[str, tuple[Rule, list[str]]] = {}
    for match in matches:
        if match.substance is None:
            continue
        for agent in sorted(intake.substances):
            for rule in _rules_for(agent, match, knowledge):
                label = medicine_label(match, knowledge, rule)
                hits.setdefault(rule.code, (rule, []))[1].append(label)
    return [
        rule.as_flag((*dict.fromkeys(labels), rule.agent), kind="medicine")
        for rule, labels in hits.values()
    ]


def _rules_for(agent: str, match: MedicationMatch, knowledge: Knowledge) -> list[Rule]:
    """The rules of `agent` for the matched substance itself or any class it belongs to."""
    substance = match.substance
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
