"""The pages a person sees when the app refuses them: a 403 with the reason, a 405 page
for a GET on a form-only address, and a 409 when they try to change a checklist that is
no longer a draft.

`forbidden` is the project's handler403 (clinic/urls.py): every PermissionDenied ends
here, and the sentence of an `access.Refused` is shown (Django's own PermissionDenied
carries no sentence meant for people, so those get the general one). `RefusalMiddleware`
turns `access.ResponseLocked` into the 409 page.

405: Django answers a GET on a form-only address (require_POST) with an empty 405, which
a browser shows as a blank page: what a clinician sees after reloading a refused sign.
Django has no handler405, so `MethodNotAllowedPageMiddleware` fills the empty body with
templates/405.html; the status and the Allow header stay. The link back is to the case,
response or lot the address names, and only when the user may see it (the guarded
lookups), so the page tells an outsider nothing a 405 did not.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from . import access
from .access import Refused, ResponseLocked


def forbidden(request, exception=None):
    message = exception.message if isinstance(exception, Refused) else ""
    return render(request, "403.html", {"message": message}, status=403)


def locked(request, exception: ResponseLocked):
    return render(
        request,
        "checklists/locked.html",
        {"response": exception.response, "message": str(exception)},
        status=409,
    )


class RefusalMiddleware:
    """Renders a refused write on a signed checklist as the 409 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ResponseLocked):
            return locked(request, exception)
        return None


# URL keyword -> (guarded lookup, page to link to, label of the link), most specific first.
BACK_LINKS = [
    ("response_id", access.get_response_for_user, "response_detail", "Back to the checklist"),
    ("case_id", access.get_case_for_user, "case_detail", "Back to the case"),
    ("lot_id", access.get_lot_for_user, "lot_detail", "Back to the lot"),
]


def back_link(request: HttpRequest) -> tuple[str, str] | None:
    """(url, label) of the page the address belongs to, when this user may see it."""
    match = request.resolver_match
    if match is None or not request.user.is_authenticated:
        return None
    for keyword, lookup, page, label in BACK_LINKS:
        if keyword in match.kwargs:
            try:
                found = lookup(request.user, match.kwargs[keyword])
            except Http404:
                return None
            return reverse(page, args=[found.pk]), label
    return None


class MethodNotAllowedPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.streaming or response.content:
            return response
        link = back_link(request)
        context = {"back_url": link[0], "back_label": link[1]} if link else {}
        response.content = render_to_string("405.html", context, request=request)
        response["Content-Type"] = "text/html; charset=utf-8"
        return response
