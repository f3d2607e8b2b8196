from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

handler403 = "checklists.refusals.forbidden"
handler500 = "checklists.views.system.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="case_list", permanent=False)),
    path("accounts/", include("accounts.urls")),
    # The admin's own password page asks only the old password; everyone changes theirs on
    # /accounts/password/, which asks a current code as well (accounts/README.md).
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="password_change"),
        name="admin_password_change",
    ),
    path("admin/", admin.site.urls),
    path("", include("checklists.urls")),
]

if settings.BENCH_ENDPOINTS:  # benchmarks only, refused outside loopback (settings.py)
    urlpatterns.insert(0, path("", include("bench.urls")))
