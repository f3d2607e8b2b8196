"""The page for a GET on an address that only takes a form submission (status 405).

Django answers such a request (require_POST, a class view without `get`) with an empty
405, which a browser shows as a blank page: what a clinician sees after reloading a
refused sign, or opening /responses/<id>/sign/ from the address bar. Django has no
handler405, so this middleware fills the empty body with templates/405.html; the status
and the Allow header stay. The link back is to the case, response or lot the address
names, and only when the user may see it (the same guarded lookups as the views), so the
page tells an outsider nothing a 405 did not.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

from . import access

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
