"""Cross-cutting request handling: no caching of patient pages.

The session's life and the second factor are accounts/middleware.py's; refusal pages are
refusals.py's."""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated


class NoStoreForAuthenticatedMiddleware:
    """Patient data must never sit in a browser or proxy cache: no-store on every
    response to a signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Signed in before the view or after it: logging in and logging out count too.
        signed_in_before = _signed_in(request)
        response = self.get_response(request)
        if signed_in_before or _signed_in(request):
            add_never_cache_headers(response)
        return response
