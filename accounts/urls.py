"""Mounted at /accounts/ (clinic/urls.py). Names are global, not namespaced: Django's auth
(LOGIN_URL, LOGOUT_REDIRECT_URL), django-otp (OTP_LOGIN_URL) and the second-factor
middleware look them up as "login", "mfa_verify" and so on."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("mfa/", views.mfa_overview, name="mfa_overview"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
