from clinic.startup import load_settings

load_settings()

from django.core.asgi import get_asgi_application  # noqa: E402 (after the settings check)

application = get_asgi_application()
