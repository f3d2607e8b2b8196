"""Knowledge releases: the list, one release's changes file by file, and its decision
(approve, which loads it, or reject) by POST through authoring/release.py.

Releases are recorded by `load_default_content`, never added, edited or deleted here."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse

from ..access import can_decide_release
from ..authoring import release as releases
from ..forms.knowledge import DecisionForm
from ..models import ContentRelease
from .decisions import DecidedNotEditedAdmin

STEPS = [("approve", "Approve and load"), ("reject", "Reject")]


@admin.register(ContentRelease)
class ContentReleaseAdmin(DecidedNotEditedAdmin, admin.ModelAdmin):
    # Added by their own flow, decided by the buttons below, never edited or deleted.
    decide_url_name = "checklists_release_decide"
    decide_services = releases.SERVICES
    decide_argument = "release"
    steps = STEPS
    list_display = ["__str__", "status", "recorded_at", "decided_by", "decided_at", "rows_loaded"]
    list_filter = ["status"]
    list_select_related = ["decided_by"]
    ordering = ["-recorded_at", "-id"]
    actions = None
    # The files are large: the list never reads them.
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).defer("files")

    def may_decide(self, user, step: str, target) -> bool:
        return can_decide_release(user, target)

    def decided_message(self, done) -> str:
        return _decided_message(done)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """One release: when it was recorded, what it changes, and the buttons."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        release = self._get(object_id)
        context = {
            **self.admin_site.each_context(request),
            "title": str(release).capitalize(),
            "opts": self.opts,
            "release": release,
            "files": [
                (path, _described(part))
                for path, part in sorted(release.changes.get("files", {}).items())
            ],
            "first_comparison": release.changes.get("earlier") is None,
            "current": ContentRelease.objects.current(),
            "form": DecisionForm(),
            "steps": self.decision_steps(request, release),
        }
        return TemplateResponse(request, "admin/checklists/contentrelease/review.html", context)

    @staticmethod
    def _get(object_id) -> ContentRelease:
        if not str(object_id).isdigit() or int(object_id) > 2**62:
            raise Http404("No such release.")
        found = ContentRelease.objects.select_related("decided_by").filter(pk=object_id).first()
        if found is None:
            raise Http404("No such release.")
        return found


def _described(part: dict) -> dict:
    """A file's changes as the page lists them: a changed row with the fields that differ."""
    fields = part.get("fields", {})
    changed = [
        f"{key} ({', '.join(fields[key])})" if fields.get(key) else key for key in part["changed"]
    ]
    return {**part, "changed": changed}


def _decided_message(release: ContentRelease) -> str:
    if release.status == ContentRelease.Status.APPLIED:
        return (
            f"{str(release).capitalize()}: approved and loaded ({release.rows_loaded} rows). "
            "Clinicians' next screening uses it."
        )
    return f"{str(release).capitalize()}: rejected. The knowledge is unchanged."
