"""Individual variability: the patient's factors (age, pregnancy, conditions) and the
combination of kratom with melatonin."""

from __future__ import annotations

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
            flags.append(rule.as_flag())
    return flags
