from clinic.startup import load_settings

load_settings()

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after the settings check)

application = get_wsgi_application()
