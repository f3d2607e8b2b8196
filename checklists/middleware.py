"""Cross-cutting request handling: session lifetime, the second factor, no caching of
patient pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from . import mfa, sessions

TIMEOUT_MESSAGES = {
    "idle": "You were signed out after 30 minutes without activity. Log in again to go on.",
    "absolute": "Your session reached its 12-hour limit. Log in again to go on.",
}


class SessionTimeoutMiddleware:
    """Ends a signed-in session after 30 minutes idle or 12 hours in all (settings), deleting
    it server-side, and sends the user to the login page with the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            reason = sessions.expiry_reason(request.session)
            if reason:
                logout(request)
                messages.info(request, TIMEOUT_MESSAGES[reason])
                return redirect_to_login(request.get_full_path())
            sessions.touch(request.session)
        return self.get_response(request)


# The pages a signed-in user may reach before giving the second factor, by pending step.
SECOND_FACTOR_PAGES = {
    "verify": {"mfa_verify", "logout"},
    "setup": {"mfa_setup", "logout"},
}


class SecondFactorMiddleware:
    """Until the second factor is given, a signed-in user reaches only the page that asks
    for it (or sets it up) and logout. The admin is covered like every other page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        step = mfa.pending_step(request.user)
        if step is None or request.resolver_match.view_name in SECOND_FACTOR_PAGES[step]:
            return None
        return redirect_to_login(request.get_full_path(), login_url=reverse(f"mfa_{step}"))


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
