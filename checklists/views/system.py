from django.db import connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..request_id import current_request_id


@never_cache
@require_GET
def healthz(request):
    """200 "ok" when the database answers; 503 otherwise (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for where a page names no icon (the admin, a PDF):
    the static icon that base.html links, so no page logs a 404 for it."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def csrf_failure(request, reason=""):
    """A form posted without a valid CSRF token: a plain explanation, status 403."""
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    """The generic 500 page: no traceback, no settings, only the id the error was logged
    under. Rendered without context processors or the base template, which may be what
    failed."""
    request_id = getattr(request, "request_id", None) or current_request_id()
    html = loader.get_template("500.html").render({"request_id": request_id})
    return HttpResponseServerError(html)
