"""Individual variability: the patient's factors (age, pregnancy, conditions) and the
combination of kratom with melatonin."""

from __future__ import annotations

from dataclasses import replace

from ...models.knowledge import VariabilityRule
from ..flags import Flag
from ..intake import AGENTS, Intake
from ..knowledge import Knowledge


def variability_flags(intake: Intake, knowledge: Knowledge) -> list[Flag]:
    """A rule applies when its agent is in use (or any agent, for "any") and its factor is
    among the patient's; the combination rule when both agents are in use."""
    factors = intake.all_factors()
    both = intake.substances >= AGENTS
    flags = []
    for rule in knowledge.variability:
        if rule.target == VariabilityRule.Factor.COMBINATION:
            if both:
                # Taking both is an interaction, whatever family the rule is filed under.
                flags.append(
                    replace(
                        rule.as_flag(("kratom", "melatonin"), kind="agent"),
                        category="interaction",
                    )
                )
            continue
        applies = rule.agent in intake.substances or (
            rule.agent == VariabilityRule.ANY and intake.substances
        )
        if applies and rule.target in factors:
            names = (VariabilityRule.Factor(rule.target).label,)
            if rule.agent != VariabilityRule.ANY:
                names += (rule.agent,)
            flags.append(rule.as_flag(names, kind="factor"))
    return flags
