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
# The clinician's legal check: carried together, and only while the check is recent.
LEGAL_CHECK = frozenset(
    {"legal_checked", "legal_check_source", "legal_check_date", "kratom_legal_status_found"}
)
LEGAL_CHECK_DATE = "legal_check_date"


def extra_keys(template_slug: str) -> frozenset[str]:
    """The keys a template carries beyond the common ones."""
    return FOLLOW_UP_EXTRA | LEGAL_CHECK if template_slug == FOLLOW_UP_SLUG else frozenset()


def without_stale_legal_check(values: dict[str, Any], today: datetime.date) -> dict[str, Any]:
    """`values` (answers by key) less the legal check when its date is missing, unreadable
    or more than LEGAL_STALE_DAYS before `today`."""
    if not LEGAL_CHECK & set(values):
        return values
    try:
        checked = datetime.date.fromisoformat(str(values.get(LEGAL_CHECK_DATE)))
    except ValueError:
        checked = None
    if checked is not None and 0 <= (today - checked).days <= settings.LEGAL_STALE_DAYS:
        return values
    return {key: value for key, value in values.items() if key not in LEGAL_CHECK}
