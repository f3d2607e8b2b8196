"""What every template knows. Who may do what is not here: templates ask access.py
through `{% allowed %}` (templatetags/access_tags.py)."""

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


def _follow_ups_due(request) -> str:
    from .followups.worklist import due_label

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return due_label(user, timezone.localdate())
