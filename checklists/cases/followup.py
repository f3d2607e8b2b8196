"""What a follow-up review (template `follow-up`, issue 20) carries forward from the
case's last signed checklist, beyond what every checklist carries (drafts.CARRY_FORWARD).

The clinician's own check of the law is carried only while it is recent: older than
LEGAL_STALE_DAYS, it is left blank so that the review asks for it again (and screening,
seeing no current check, flags a stale legal-table entry as it does at intake).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

FOLLOW_UP_SLUG = "follow-up"

# Confirmed at each review rather than asked afresh.
FOLLOW_UP_EXTRA = frozenset({"substances_in_use", "age_band", "jurisdiction", "who_to_call"})
# The clinician's own check of each substance's law: its source and date carried together,
# and only while that check is recent (kratom's takes the status found in the table along).
LEGAL_CHECKS = {
    "kratom": frozenset(
        {"kratom_legal_check_source", "kratom_legal_check_date", "kratom_legal_status_found"}
    ),
    "melatonin": frozenset({"melatonin_legal_check_source", "melatonin_legal_check_date"}),
}
LEGAL_CHECK = frozenset().union(*LEGAL_CHECKS.values())


def extra_keys(template_slug: str) -> frozenset[str]:
    """The keys a template carries beyond the common ones."""
    return FOLLOW_UP_EXTRA | LEGAL_CHECK if template_slug == FOLLOW_UP_SLUG else frozenset()


def without_stale_legal_check(values: dict[str, Any], today: datetime.date) -> dict[str, Any]:
    """`values` (answers by key) less each substance's legal check whose date is missing,
    unreadable or more than LEGAL_STALE_DAYS before `today`."""
    stale: set[str] = set()
    for agent, keys in LEGAL_CHECKS.items():
        if not keys & set(values):
            continue
        try:
            checked = datetime.date.fromisoformat(str(values.get(f"{agent}_legal_check_date")))
        except ValueError:
            checked = None
        if checked is None or not 0 <= (today - checked).days <= settings.LEGAL_STALE_DAYS:
            stale |= keys
    return {key: value for key, value in values.items() if key not in stale}
