"""`{% editor_work as work %}`: the editor's landing panel reads its lists here, so the
case list's view (the clinicians' page) runs none of these queries for them."""

from __future__ import annotations

from django import template
from django.utils import timezone

from ..authoring.editor_work import EditorWork, editor_work

register = template.Library()


@register.simple_tag(takes_context=True, name="editor_work")
def editor_work_tag(context) -> EditorWork | None:
    request = context.get("request")
    if request is None:
        return None
    return editor_work(request.user, timezone.localdate())
