"""A search by clinic reference, as the case list and the audit trail take it: the text
travels by POST and is kept in the session, never in a URL or an access log; the page is
then shown by GET with its other filters as they were."""

from __future__ import annotations

from django.shortcuts import redirect

from ..forms import CaseSearchForm


def keep(request, key: str):
    """Keep the posted reference under `key` (blank when refused) and show the page again."""
    search = CaseSearchForm(request.POST)
    request.session[key] = search.cleaned_data["q"] if search.is_valid() else ""
    return redirect(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)


def kept(request, key: str) -> str:
    return request.session.get(key, "")
