"""Screens for the second factor and the password: give the code at login, set up or
replace the authenticator, renew recovery codes, change the password.

Replacing the factor, new recovery codes and a new password each ask the password and a
current code (forms.ItIsYouMixin); a wrong one counts toward the login lockout
(lockout.count_refusal), which ends the session at the limit.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from . import events, lockout, mfa, profiles
from .forms import EnrolForm, ItIsYouForm, PasswordChangeForm, ProfileForm, SecondFactorForm
from .models import Profile

# The fields never shown in an error report.
SECRET_FIELDS = ("password", "current_code", "otp_token")


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
    form = SecondFactorForm(request.POST or None, user=request.user, ip=events.client_ip(request))
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
@sensitive_post_parameters(*SECRET_FIELDS)
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    # Replacing an authenticator asks the password and a code from the current one (an
    # enrolled user reaches this page only after giving the code at login, but a session
    # left open must not be enough). A first one asks the password too, except in the
    # set-up step right after the login, where the password was just typed.
    device = mfa.pending_device(request.user)
    enrolled = mfa.is_enrolled(request.user)
    form = EnrolForm(
        request.POST or None,
        user=request.user,
        device=device,
        ask_password=enrolled or mfa.pending_step(request.user) != "setup",
        ip=events.client_ip(request),
    )
    if request.method == "POST":
        if form.is_valid():
            codes = mfa.confirm_device(request=request, device=device, ip=form.ip)
            # Shown once, on this response only (no-store): nothing else ever displays them.
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": codes, "just_enrolled": True, "next": _next_url(request)},
            )
        if signed_out := lockout.count_refusal(request, form.refused):
            return signed_out
    return render(
        request,
        "registration/mfa_setup.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "secret": mfa.secret_text(device),
            "next": _next_url(request),
            "enrolled": enrolled,
        },
    )


@login_required
def mfa_overview(request):
    return _overview(request, ItIsYouForm(user=request.user, purpose="recovery_codes"))


def _overview(request, renew_form: ItIsYouForm):
    return render(
        request,
        "registration/mfa_overview.html",
        {
            "enrolled": mfa.is_enrolled(request.user),
            "required": settings.MFA_REQUIRED,
            "recovery_left": mfa.remaining_recovery_codes(request.user),
            "renew_form": renew_form,
        },
    )


@login_required
@sensitive_post_parameters(*SECRET_FIELDS)
@require_POST
def mfa_recovery_codes(request):
    if not mfa.is_enrolled(request.user):
        messages.error(request, "Set up the authenticator app first; the codes come with it.")
        return redirect("mfa_overview")
    form = ItIsYouForm(
        request.POST, user=request.user, purpose="recovery_codes", ip=events.client_ip(request)
    )
    if form.is_valid():
        codes = mfa.renew_recovery_codes(user=request.user, ip=form.ip)
        return render(request, "registration/mfa_recovery_codes.html", {"codes": codes})
    return lockout.count_refusal(request, form.refused) or _overview(request, form)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (this session stays, the others end), asking a current code
    as well once a second factor is set up; the change is audited."""

    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "ip": events.client_ip(self.request)}

    def form_valid(self, form):
        with transaction.atomic():
            answer = super().form_valid(form)
            events.record(events.Action.PASSWORD_CHANGED, owner=form.user, ip=form.ip)
        return answer

    def form_invalid(self, form):
        return lockout.count_refusal(self.request, form.refused) or super().form_invalid(form)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The name and credentials that every checklist this user signs will carry."""
    current = Profile.objects.filter(user=request.user).first()
    form = ProfileForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        profiles.save_profile(
            owner=request.user, values=form.cleaned_data, ip=events.client_ip(request)
        )
        messages.success(request, "Saved. Checklists you sign from now on carry this name.")
        return redirect("profile")
    return render(request, "registration/profile.html", {"form": form, "profile": current})
