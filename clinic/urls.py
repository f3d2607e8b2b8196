from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from checklists.views import accounts

handler500 = "checklists.views.system.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="case_list", permanent=False)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/mfa/", accounts.mfa_overview, name="mfa_overview"),
    path("accounts/mfa/verify/", accounts.mfa_verify, name="mfa_verify"),
    path("accounts/mfa/setup/", accounts.mfa_setup, name="mfa_setup"),
    path("accounts/mfa/recovery-codes/", accounts.mfa_recovery_codes, name="mfa_recovery_codes"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("", include("checklists.urls")),
]

if settings.BENCH_ENDPOINTS:  # benchmarks only, refused outside loopback (settings.py)
    urlpatterns.insert(0, path("", include("bench.urls")))
