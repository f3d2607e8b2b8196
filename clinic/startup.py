"""Start-up with a clear message: a missing or weak setting names its variable and exits.

clinic/settings.py raises ImproperlyConfigured for a bad environment; manage.py and the
WSGI entry point call `load_settings()` first, so the operator reads one line such as
"DJANGO_SECRET_KEY is not set ..." instead of a traceback, and the process exits non-zero
(gunicorn then refuses to boot its workers).
"""

from __future__ import annotations

import os
import sys

EXIT_CONFIGURATION = 78  # EX_CONFIG from sysexits.h: "configuration error"

# Commands that only compare the code with itself: they serve no request, sign nothing and
# write no row, so they run without the production secret key and host names (a build step
# or a reviewer can ask whether models and migrations agree on a bare checkout).
CODE_ONLY_COMMANDS = frozenset({"makemigrations"})

# Set by manage.py for those commands, never from the environment, so no deployment can
# switch the checks below off by exporting a variable.
code_only = False


def mark_code_only(argv: list[str]) -> None:
    global code_only
    code_only = len(argv) > 1 and argv[1] in CODE_ONLY_COMMANDS


def load_settings() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 (reading a setting imports the settings module)
    except ImproperlyConfigured as problem:
        sys.stderr.write(f"Configuration error: {problem}\n")
        sys.exit(EXIT_CONFIGURATION)
