"""Screens for the second factor: give it at login, set it up, renew recovery codes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import mfa
from .forms import EnrolForm, SecondFactorForm


def _next_url(request) -> str:
    """Where to go after the second factor: the page first asked for, if it is ours."""
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request):
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        mfa.complete_login(request, form.device)
        if form.device.name == mfa.RECOVERY_NAME:
            left = mfa.remaining_recovery_codes(request.user)
            messages.warning(
                request,
                f"Recovery code used: {left} left. If your phone is lost, set up the "
                "authenticator again from “Two-factor authentication”.",
            )
        return redirect(_next_url(request))
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": _next_url(request)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    # An enrolled user who has given only the password never gets here (the second-factor
    # middleware asks for the code first), so the password alone cannot swap the factor.
    device = mfa.pending_device(request.user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.confirm_device(
                request=request, device=device, code=form.cleaned_data["otp_token"]
            )
        except mfa.CodeRefused as refusal:
            form.add_error("otp_token", str(refusal))
        else:
            # Shown once, on this response only (no-store): nothing else ever displays them.
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": codes, "just_enrolled": True, "next": _next_url(request)},
            )
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "secret": mfa.secret_text(device),
            "next": _next_url(request),
            "enrolled": mfa.is_enrolled(request.user),
        },
    )


@login_required
def mfa_overview(request):
    return render(
        request,
        "registration/mfa_overview.html",
        {
            "enrolled": mfa.is_enrolled(request.user),
            "required": settings.MFA_REQUIRED,
            "recovery_left": mfa.remaining_recovery_codes(request.user),
        },
    )


@login_required
@require_POST
def mfa_recovery_codes(request):
    if not mfa.is_enrolled(request.user):
        messages.error(request, "Set up the authenticator app first; the codes come with it.")
        return redirect("mfa_overview")
    codes = mfa.new_recovery_codes(request.user)
    return render(request, "registration/mfa_recovery_codes.html", {"codes": codes})
