"""What every template knows. Who may do what is not here: templates ask access.py
through `{% allowed %}` (templatetags/access_tags.py)."""

import time

from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject


def app_context(request):
    return {
        "demo_mode": settings.DEMO_MODE,
        # Lazy: counted (one query) only by a page that draws the navigation, so a
        # fragment (an autosave's reply) or an error page costs nothing more.
        "follow_ups_due": SimpleLazyObject(lambda: _follow_ups_due(request)),
    }


# The navigation's count is kept in the session this long: counted on every page it cost
# every page a query (issue 18's "no slower": the case list's ratio fell from 0.23 to 0.20).
# The worklist itself is always counted afresh; signing drops the kept count at once.
FOLLOW_UPS_COUNT_SECONDS = 120
FOLLOW_UPS_KEY = "follow_ups_due"


def _follow_ups_due(request) -> str:
    from .followups.worklist import due_label

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    today = timezone.localdate()
    now = time.time()
    kept = request.session.get(FOLLOW_UPS_KEY)
    if (
        kept
        and kept["on"] == today.isoformat()
        and 0 <= now - kept["at"] < FOLLOW_UPS_COUNT_SECONDS
    ):
        return kept["label"]
    label = due_label(user, today)
    request.session[FOLLOW_UPS_KEY] = {"on": today.isoformat(), "at": now, "label": label}
    return label


def forget_follow_ups_count(request) -> None:
    """After a change to a follow-up date (signing), the next page counts again."""
    request.session.pop(FOLLOW_UPS_KEY, None)
