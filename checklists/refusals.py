"""The pages a person sees when the app refuses them: a 403 with the reason, and a 409
when they try to change a checklist that is no longer a draft.

`forbidden` is the project's handler403 (clinic/urls.py): every PermissionDenied ends
here, and the sentence of an `access.Refused` is shown (Django's own PermissionDenied
carries no sentence meant for people, so those get the general one). `RefusalMiddleware`
turns `access.ResponseLocked` into the 409 page.
"""

from __future__ import annotations

from django.shortcuts import render

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
