"""Teams and the audit trail in the admin (the audit trail read-only).

Team membership is changed here (the members field); the event that records it is written
by checklists/signals.py, whatever path makes the change. The audit list shows the same
events as /audit/ (`AuditEvent.objects.visible_to`, a folded window of saves as its latest
event unless every written row is asked for), with the same rule for free text, and each
look at it is itself audited.
"""

from __future__ import annotations

from django.contrib import admin

from .. import audit
from ..access import can_read_event_text
from ..models import (
    AuditEvent,
    Team,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


class WrittenRowsFilter(admin.SimpleListFilter):
    """The list shows the trail as /audit/ does: a folded window of section saves is its
    latest event (audit.record_section_save). Every row as written, one click away."""

    title = "rows"
    parameter_name = "rows"

    def lookups(self, request, model_admin):
        return [("written", "Every row as written (folded saves too)")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "As the trail shows them",
        }
        yield from list(super().choices(changelist))[1:]

    def queryset(self, request, queryset):
        return queryset if self.value() == "written" else queryset.in_trail()


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "action", "object_type", "object_id", "case_id", "ip_address"]
    list_filter = [WrittenRowsFilter, "action"]
    search_fields = ["username", "object_id"]
    exclude = ["detail"]
    readonly_fields = ["shown_detail"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        event = super().get_object(request, object_id, from_field)
        if event is not None:  # what `shown_detail` shows, decided for this viewer
            event.shown = event.detail_shown(with_text=can_read_event_text(request.user, event))
        return event

    @admin.display(description="detail")
    def shown_detail(self, event: AuditEvent) -> dict:
        return getattr(event, "shown", {})

    def changelist_view(self, request, extra_context=None):
        self._record_view(request, "admin list")
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._record_view(request, f"admin event {object_id}"[:60])
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _record_view(request, page: str) -> None:
        filters = {key: value[:150] for key, value in request.GET.items()}
        audit.record(
            AuditEvent.Action.AUDIT_VIEWED,
            user=request.user,
            ip=audit.client_ip(request),
            detail={"page": page, "filters": filters},
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
