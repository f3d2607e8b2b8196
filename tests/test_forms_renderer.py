"""The fast widget renderer writes exactly what Django's widget templates write."""

import re

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting, get_default_renderer
from django.urls import reverse
from django.utils.safestring import mark_safe

from checklists.forms_renderer import FAST, FastWidgetRenderer

from .conftest import login
from .factories import fill, make_response

HOSTILE = ['a "quoted" <b>&amp;</b>', "", 0, 12.5, None, mark_safe("<i>safe</i>"), "O'Brien"]
WIDGETS = [
    forms.TextInput,
    forms.NumberInput,
    forms.DateInput,
    forms.EmailInput,
    forms.HiddenInput,
    forms.Textarea,
]
ATTRS = [
    {},
    {"id": "id_x", "class": "form-control", "required": True, "disabled": False},
    {"aria-describedby": 'help-"x"', "maxlength": 200, "data-x": mark_safe("<ok>")},
]


@pytest.mark.parametrize("widget_class", WIDGETS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("attrs", ATTRS, ids=["none", "flags", "escaping"])
def test_plain_widgets_render_the_same(widget_class, attrs):
    fast, slow = FastWidgetRenderer(), TemplatesSetting()
    assert fast.fast  # Django's own templates are in use, so the fast path is on
    for value in HOSTILE:
        widget = widget_class(attrs=attrs)
        assert widget.render("field", value, renderer=fast) == widget.render(
            "field", value, renderer=slow
        ), (widget_class, value)


class ChoiceForm(forms.Form):
    radio = forms.ChoiceField(
        choices=[("yes", "Yes"), ("no", 'No <"really">'), ("unknown", "Not known")],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A & B"), ("b", mark_safe("<em>B</em>"))],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        required=False,
    )
    note = forms.CharField(widget=forms.Textarea, required=False)
    tick = forms.BooleanField(required=False)


@pytest.mark.parametrize(
    "data", [None, {"radio": "no", "boxes": ["a", "b"], "note": "<script>", "tick": "on"}]
)
def test_choices_and_whole_forms_render_the_same(data):
    fast = ChoiceForm(data, renderer=FastWidgetRenderer())
    slow = ChoiceForm(data, renderer=TemplatesSetting())
    assert str(fast) == str(slow)
    for name in ("radio", "boxes"):
        assert [c.tag() for c in fast[name]] == [c.tag() for c in slow[name]]
        assert str(fast[name]) == str(slow[name])


def test_only_djangos_own_templates_are_replaced(settings, tmp_path):
    """A project template overriding a widget keeps being used."""
    override = tmp_path / "django" / "forms" / "widgets"
    override.mkdir(parents=True)
    (override / "text.html").write_text("<custom>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    renderer = FastWidgetRenderer()
    assert "django/forms/widgets/text.html" not in renderer.fast
    assert set(renderer.fast) == set(FAST) - {"django/forms/widgets/text.html"}
    assert forms.TextInput().render("x", "y", renderer=renderer) == "<custom>"


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.mark.django_db
def test_every_section_page_is_the_same_with_either_renderer(
    client, settings, version, clinician, case
):
    response = make_response(case, clinician)
    fill(response, clinician)
    login(client, clinician)
    for section in version.sections.order_by("position"):
        url = reverse("section", args=[response.pk, section.key])
        settings.FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
        slow = CSRF.sub("", client.get(url).text)
        settings.FORM_RENDERER = "checklists.forms_renderer.FastWidgetRenderer"
        assert isinstance(get_default_renderer(), FastWidgetRenderer)
        fast = CSRF.sub("", client.get(url).text)
        assert "<input" in fast
        assert fast == slow, section.key
