"""A form renderer that writes Django's plain input widgets in Python.

A section page draws up to 60 questions, and every radio button, checkbox and text box
went through three or four nested widget templates (`input_option.html` →
`input.html` → `attrs.html`): about half of the section page's time (issue 9). These
few templates are small and stable, so they are written here as Python with the same
escaping, and produce the same characters (tests/test_forms_renderer.py compares the
two for every widget the app uses). Every other template, including our own widgets in
templates/checklists/widgets/ and any project override of these names, goes through the
templates as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import TemplatesSetting
from django.template import TemplateDoesNotExist
from django.utils.html import conditional_escape

DJANGO_FORM_TEMPLATES = Path(django.forms.__file__).resolve().parent / "templates"


def _attrs(attrs: Mapping[str, Any]) -> str:
    """django/forms/widgets/attrs.html"""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {conditional_escape(name)}")
        if value is not True:
            out.append(f'="{conditional_escape(value)}"')
    return "".join(out)


def _input(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html"""
    value = widget["value"]
    value_attr = "" if value is None else f' value="{conditional_escape(value)}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value_attr}{_attrs(widget["attrs"])}>'
    )


def _input_option(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/input_option.html (radio and checkbox options)"""
    if not widget.get("wrap_label"):
        return _input(widget)
    element_id = widget["attrs"].get("id")
    label_for = f' for="{conditional_escape(element_id)}"' if element_id else ""
    return f"<label{label_for}>{_input(widget)} {conditional_escape(widget['label'])}</label>"


def _textarea(widget: Mapping[str, Any]) -> str:
    """django/forms/widgets/textarea.html"""
    value = widget["value"]
    text = conditional_escape(value) if value else ""
    name = conditional_escape(widget["name"])
    return f'<textarea name="{name}"{_attrs(widget["attrs"])}>\n{text}</textarea>'


PREFIX = "django/forms/widgets/"
FAST: dict[str, Callable[[Mapping[str, Any]], str]] = {
    **{
        f"{PREFIX}{name}.html": _input
        for name in (
            "input",
            "text",
            "number",
            "email",
            "url",
            "password",
            "hidden",
            "date",
            "datetime",
            "time",
            "search",
            "tel",
            "color",
        )
    },
    **{
        f"{PREFIX}{name}.html": _input_option
        for name in ("input_option", "radio_option", "checkbox_option")
    },
    f"{PREFIX}textarea.html": _textarea,
}


class FastWidgetRenderer(TemplatesSetting):
    """TemplatesSetting, with the hot widget templates above drawn in Python."""

    @cached_property
    def fast(self) -> dict[str, Callable[[Mapping[str, Any]], str]]:
        """The fast widgets whose template is still Django's own: a project template that
        overrides one of these names keeps being used."""
        kept = {}
        for name, draw in FAST.items():
            try:
                origin = Path(self.get_template(name).origin.name).resolve()
            except TemplateDoesNotExist:
                continue
            if DJANGO_FORM_TEMPLATES in origin.parents:
                kept[name] = draw
        return kept

    def render(self, template_name: str, context: dict, request=None) -> str:
        fast = self.fast.get(template_name)
        if fast is None:
            return super().render(template_name, context, request=request)
        # BaseRenderer.render strips the template's output; so do we.
        return fast(context["widget"]).strip()
