"""What every template knows. Who may do what is not here: templates ask access.py
through `{% allowed %}` (templatetags/access_tags.py)."""

from django.conf import settings


def app_context(request):
    return {"demo_mode": settings.DEMO_MODE}
