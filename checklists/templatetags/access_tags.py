"""`{% allowed "action" object as name %}`: templates ask access.py which buttons to offer,
so no page offers an action its user would be refused."""

from __future__ import annotations

from django import template

from .. import access

register = template.Library()


@register.simple_tag(takes_context=True)
def allowed(context, action: str, obj=None) -> bool:
    request = context.get("request")  # a template rendered without one offers nothing
    return request is not None and access.allowed(request.user, action, obj)
