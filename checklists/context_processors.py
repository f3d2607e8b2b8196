from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .access import can_view_audit, can_write_clinical


def app_context(request):
    user = getattr(request, "user", None)
    return {
        "demo_mode": settings.DEMO_MODE,
        # Evaluated only if a template asks (one query then).
        "can_view_audit": SimpleLazyObject(lambda: user is not None and can_view_audit(user)),
        "can_write_clinical": SimpleLazyObject(
            lambda: user is not None and can_write_clinical(user)
        ),
    }
