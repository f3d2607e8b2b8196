"""The law where the patient lives: bans, minimum ages, and statuses nobody has verified.

Banned (possession an offence) → contraindicated; sale prohibited (possession not an
offence) → major, with advice about where the product comes from, never "unlawful to
possess"; under the minimum age → major; unclear, unknown or stale
(verified more than LEGAL_STALE_DAYS ago) → major until the clinician records their own
check of that substance's law (what they consulted, and when; kratom's covers its 7-OH
products).
"""

from __future__ import annotations

from dataclasses import replace

from ...models.content import Severity
from ...models.knowledge import Agent, VariabilityRule
from ...models.legal import LegalStatus
from ..flags import Flag
from ..intake import Intake
from ..knowledge import Knowledge, LegalRow

PROBLEM = "legal-status"

ADVICE_UNVERIFIED = (
    "Check the current statute or regulator's notice for the patient's state and locality, "
    "then record what you consulted and the date in the legal verification section."
)


def legal_flags(intake: Intake, knowledge: Knowledge) -> list[Flag]:
    """Every legal flag for the substances in use at the patient's jurisdiction."""
    if not intake.jurisdiction:
        return []
    youngest = _youngest_age(intake)
    flags: list[Flag] = []
    for substance in _legal_substances(intake):
        # The place itself first, then its parent, then the grandparent.
        rows = sorted(
            (r for r in knowledge.legal if r.substance == substance), key=lambda r: r.depth
        )
        for row in rows:
            flags += row_flags(row, substance, youngest)
        nearest = rows[0] if rows else None
        if substance == "melatonin" and nearest is None:
            continue  # no melatonin row: nothing recorded to warn about
        reason = _unverified_reason(intake, knowledge, nearest)
        if reason:
            check = _own_check(intake, _agent(substance), knowledge.legal_stale_days)
            flags.append(_verification_flag(intake, substance, nearest, reason, check))
        if nearest is not None and nearest.status in (
            LegalStatus.Status.REGULATED,
            LegalStatus.Status.AGE_RESTRICTED,
        ):
            flags.append(_rules_flag(nearest, substance))
    where = next((r.place for r in knowledge.legal if r.depth == 0), intake.jurisdiction)
    return [
        replace(
            f,
            problem=PROBLEM,
            kind="place",
            names=(f"{f.title.split(':')[0].lower()} in {where}",),
        )
        for f in flags
    ]


def _legal_substances(intake: Intake) -> list[str]:
    """The legal table's substances for the agents in use (7-OH only for its products)."""
    wanted = []
    if Agent.KRATOM in intake.substances:
        wanted.append("kratom")
        if any(p.get("form") == "concentrated_7oh" for p in intake.products):
            wanted.append("seven_oh")
    if Agent.MELATONIN in intake.substances:
        wanted.append("melatonin")
    return wanted


def _agent(substance: str) -> str:
    """The agent whose check covers a legal-table substance (7-OH products: kratom's)."""
    return Agent.MELATONIN if substance == "melatonin" else Agent.KRATOM


def _own_check(intake: Intake, agent: str, stale_days: int):
    """The clinician's own current check of the law for one agent, or None."""
    check = intake.legal_check(agent)
    if not check or not str(check.get("consulted", "")).strip():
        return None
    age = (intake.on - check["on"]).days
    return check if 0 <= age <= stale_days else None


def _youngest_age(intake: Intake) -> int | None:
    """The age to test minimum ages against: the age given, or 17 for "under 18"."""
    if intake.age_years is None and VariabilityRule.Factor.UNDER_18 in intake.factors:
        return 17
    return intake.age_years


def _label(substance: str) -> str:
    return LegalStatus.Substance(substance).label


def row_flags(row: LegalRow, substance: str, youngest: int | None) -> list[Flag]:
    """A ban, a ban on sale, and a minimum age the patient may be under, at any level of
    the place. Public: the reviewer's table (authoring/review_table.py) grades each legal row
    with it, so the table cannot disagree with screening."""
    label = _label(substance)
    flags = []
    if row.status == LegalStatus.Status.BANNED:
        flags.append(
            _row_flag(
                row,
                substance,
                "banned",
                Severity.CONTRAINDICATED,
                f"{label}: banned in {row.place}",
                "Advise the patient that possessing or buying it there is unlawful, and plan "
                "care without it.",
            )
        )
    if row.status == LegalStatus.Status.SALE_PROHIBITED:
        flags.append(
            _row_flag(
                row,
                substance,
                "sale-prohibited",
                Severity.MAJOR,
                f"{label}: sale prohibited in {row.place}",
                "Selling it there is not allowed; this rule does not make having it an "
                "offence. What the patient has comes from outside the lawful market, so ask "
                "where it was bought, treat its content as unknown, and plan care without it.",
            )
        )
    if row.minimum_age and youngest is not None and youngest < row.minimum_age:
        flags.append(
            _row_flag(
                row,
                substance,
                "under-minimum-age",
                Severity.MAJOR,
                f"{label}: the patient may be under the minimum age ({row.minimum_age}) in "
                f"{row.place}",
                "Confirm the patient's age; under the minimum age, sale to them is not "
                "allowed there.",
            )
        )
    return flags


def _row_flag(
    row: LegalRow, substance: str, kind: str, severity: str, title: str, advice: str
) -> Flag:
    """A flag from one legal row: its summary, then what to do, with the row's sources."""
    return Flag(
        code=f"legal:{kind}:{row.jurisdiction}:{substance}",
        category="legal",
        severity=severity,
        title=title,
        advice=f"{row.summary} {advice}",
        sources=row.sources,
    )


def _unverified_reason(
    intake: Intake, knowledge: Knowledge, nearest: LegalRow | None
) -> str | None:
    """Why the legal table cannot vouch for the status here, or None when it can."""
    if not knowledge.jurisdiction_known:
        return f"{intake.jurisdiction} is not in the legal table"
    if nearest is None:
        return "the legal table has no entry for it here"
    if nearest.status == LegalStatus.Status.UNCLEAR:
        return f"the legal table marks it unclear in {nearest.place}"
    if (intake.on - nearest.verified_on).days > knowledge.legal_stale_days:
        return (
            f"the entry for {nearest.place} was last verified on "
            f"{nearest.verified_on.isoformat()}, more than "
            f"{knowledge.legal_stale_days} days before this checklist"
        )
    return None


def _verification_flag(
    intake: Intake, substance: str, nearest: LegalRow | None, reason: str, check
) -> Flag:
    """Major until the clinician records a current check of this substance's law (`check`);
    then a note of it."""
    sources = nearest.sources if nearest else ()
    if check is None:
        return Flag(
            code=f"legal:unverified:{intake.jurisdiction}:{substance}",
            category="legal",
            severity=Severity.MAJOR,
            title=f"{_label(substance)}: legal status not verified ({reason})",
            advice=ADVICE_UNVERIFIED,
            sources=sources,
        )
    return Flag(
        code=f"legal:clinician-verified:{intake.jurisdiction}:{substance}",
        category="legal",
        severity=Severity.INFO,
        title=f"{_label(substance)}: legal status checked by the clinician",
        advice=f"Consulted: {check['consulted']} on {check['on'].isoformat()} ({reason}).",
        sources=sources,
    )


def _rules_flag(nearest: LegalRow, substance: str) -> Flag:
    """Regulated or age-restricted where the patient lives: the rules, for information."""
    return Flag(
        code=f"legal:rules:{nearest.jurisdiction}:{substance}",
        category="legal",
        severity=Severity.INFO,
        title=f"{_label(substance)}: {nearest.status_label} in {nearest.place}",
        advice=nearest.summary,
        sources=nearest.sources,
    )
