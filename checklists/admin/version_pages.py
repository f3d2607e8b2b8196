"""A version's preview and approval pages in the admin (issue 21).

The preview shows a draft as a clinician will see it (authoring/preview.py); the approval
page puts the diff and the change summary beside the tick, the comment and the send-back
form, so approving is a decision taken on what changed, never one click."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ..access import can_take_workflow_step
from ..authoring.diff import diff_versions
from ..authoring.preview import build_preview
from ..forms.review import ApproveForm, SendBackForm
from ..models import TemplateVersion


def preview_url(version_id: int, section_key: str = "") -> str:
    url = reverse("admin:checklists_version_preview", args=[version_id])
    return f"{url}?{urlencode({'section': section_key})}" if section_key else url


def previous_version(version: TemplateVersion) -> TemplateVersion | None:
    """What a version's changes are counted from: the version it was copied from, else the
    one numbered before it."""
    others = version.template.versions.exclude(pk=version.pk).order_by("-number")
    return (
        others.filter(pk=version.based_on_id).first()
        or others.filter(number__lt=version.number).first()
    )


class VersionPagesMixin:
    """The preview and approval pages of TemplateVersionAdmin."""

    def version_page_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/preview/",
                wrap(self.preview_view),
                name="checklists_version_preview",
            ),
            path(
                "<int:object_id>/review/", wrap(self.review_view), name="checklists_version_review"
            ),
        ]

    def _version_or_404(self, object_id: int) -> TemplateVersion:
        version = TemplateVersion.objects.select_related("template").filter(pk=object_id).first()
        if version is None:
            raise Http404("No such version.")
        return version

    def preview_view(self, request, object_id: int):
        """GET only: answers tried here are read from the query string and stored nowhere."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = self._version_or_404(object_id)
        section_key = request.GET.get("section", "")
        preview = build_preview(version, section_key=section_key, answers=request.GET)
        if section_key and not preview.sections:
            raise Http404("No such section.")
        context = {
            "preview": preview,
            "section_key": section_key,
            "back_url": reverse("admin:checklists_templateversion_change", args=[version.pk]),
            "section_links": [
                ("whole checklist", preview_url(version.pk)),
                *[(s.title, preview_url(version.pk, s.key)) for s in version.sections.all()],
            ],
        }
        return TemplateResponse(request, "admin/checklists/templateversion/preview.html", context)

    def review_view(self, request, object_id: int):
        """The approval page: summary, diff, then approve (tick, comment) or send back."""
        version = self._version_or_404(object_id)
        if not can_take_workflow_step(request.user, "return", version):
            raise PermissionDenied
        against = previous_version(version)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review {version}",
            "opts": self.model._meta,
            "version": version,
            "against": against,
            "diff": diff_versions(against, version) if against else None,
            "may_approve": can_take_workflow_step(request.user, "approve", version),
            "approve_form": ApproveForm(),
            "send_back_form": SendBackForm(),
            "approve_url": reverse(
                "admin:checklists_version_workflow", args=[version.pk, "approve"]
            ),
            "return_url": reverse("admin:checklists_version_workflow", args=[version.pk, "return"]),
            "preview_url": preview_url(version.pk),
        }
        return TemplateResponse(request, "admin/checklists/templateversion/review.html", context)
