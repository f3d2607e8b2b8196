"""A knowledge row as plain values, and back: what a proposal stores, compares and applies.

A row's values are a JSON object: each editable field by name (dates as ISO strings,
foreign keys as primary keys), each many-to-many field as the sorted list of its primary
keys (a product's `ingredients` among them, issue 17), and for a substance its names as
the sorted list "aliases". The same function reads
a stored row and an admin form, so "the row still has the values it was proposed against"
is a plain equality, and a proposal shows as a before/after of the fields that differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from ..models import (
    CombinationRule,
    InteractionRule,
    Jurisdiction,
    KnowledgeChange,
    LabLimit,
    LegalStatus,
    Problem,
    Source,
    Substance,
    SubstanceAlias,
    VariabilityRule,
    normalise_name,
)

ALIASES = "aliases"

# The tables behind KnowledgeChange.Table, by model name.
MODELS: dict[str, type[models.Model]] = {
    KnowledgeChange.Table.SOURCE: Source,
    KnowledgeChange.Table.SUBSTANCE: Substance,
    KnowledgeChange.Table.INTERACTION_RULE: InteractionRule,
    KnowledgeChange.Table.VARIABILITY_RULE: VariabilityRule,
    KnowledgeChange.Table.JURISDICTION: Jurisdiction,
    KnowledgeChange.Table.LEGAL_STATUS: LegalStatus,
    KnowledgeChange.Table.LAB_LIMIT: LabLimit,
    KnowledgeChange.Table.PROBLEM: Problem,
    KnowledgeChange.Table.COMBINATION_RULE: CombinationRule,
}


def model_for(model_name: str) -> type[models.Model]:
    return MODELS[model_name]


def _fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.editable and not f.primary_key]


def _plain(value: Any) -> Any:
    """The value as JSON gives it back (dates as ISO strings), so stored and fresh compare."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _field_values(instance) -> dict[str, Any]:
    return {f.name: _plain(f.value_from_object(instance)) for f in _fields(type(instance))}


def row_values(instance) -> dict[str, Any]:
    """The stored row's values (its many-to-many and names read from the database)."""
    values = _field_values(instance)
    for field in type(instance)._meta.many_to_many:
        values[field.name] = sorted(getattr(instance, field.name).values_list("pk", flat=True))
    if isinstance(instance, Substance):
        values[ALIASES] = sorted(instance.aliases.values_list("name", flat=True))
    return values


def form_values(form, formsets, stored: dict[str, Any] | None) -> dict[str, Any]:
    """The values an admin form (validated) and its alias rows would have written; fields the
    form does not show keep their stored values."""
    values = _field_values(form.instance)
    for field in form.instance._meta.many_to_many:
        if field.name in form.cleaned_data:
            values[field.name] = sorted(o.pk for o in form.cleaned_data[field.name])
        else:
            values[field.name] = (stored or {}).get(field.name, [])
    if isinstance(form.instance, Substance):
        names = (stored or {}).get(ALIASES, [])
        for formset in formsets:
            if formset.model is SubstanceAlias:
                names = alias_names(formset)
        values[ALIASES] = names
    return values


def alias_names(formset) -> list[str]:
    """The names the alias rows would leave: kept and new rows, less those marked deleted."""
    return sorted(
        form.cleaned_data["name"]
        for form in formset.forms
        if form.cleaned_data.get("name") and not form.cleaned_data.get("DELETE")
    )


def apply_values(instance, values: dict[str, Any]) -> list[str]:
    """Write `values` to the row (new or stored) after Django's own validation; returns
    every reason it cannot be written, and writes nothing then."""
    model = type(instance)
    for field in _fields(model):
        if field.name in values:
            setattr(instance, field.attname, field.to_python(values[field.name]))
    reasons = _validation_reasons(instance)
    if isinstance(instance, Substance):
        reasons += _alias_reasons(instance, values.get(ALIASES, []))
        reasons += _ingredient_reasons(instance, values)
    if reasons:
        return reasons
    instance.save()
    for field in model._meta.many_to_many:
        if field.name in values:
            getattr(instance, field.name).set(values[field.name])
    if isinstance(instance, Substance):
        _write_aliases(instance, values.get(ALIASES, []))
    return []


def _validation_reasons(instance) -> list[str]:
    try:
        instance.full_clean()
    except ValidationError as error:
        return [
            f"{_label(type(instance), name)}: {message}"
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return []


def _alias_reasons(substance: Substance, names: list[str]) -> list[str]:
    """A name may belong to one substance only (as the database requires of its normalised
    form): say which names are taken, rather than fail on the constraint."""
    wanted = {normalise_name(name): name for name in names}
    if len(wanted) != len(names):
        return ["Names: two of the names are the same once case and punctuation are ignored."]
    taken = SubstanceAlias.objects.filter(normalised__in=wanted).exclude(substance_id=substance.pk)
    return [
        f"Names: {wanted[alias.normalised]!r} already names {alias.substance}."
        for alias in taken.select_related("substance")
    ]


def _ingredient_reasons(substance: Substance, values: dict[str, Any]) -> list[str]:
    """A product's ingredients, classes and sources, a class's sources and every row's
    review-by date as proposed, by the model's rules (issue 17): the many-to-many values
    are pks here, not yet written; the row's own fields are already set."""
    ingredients = Substance.objects.filter(pk__in=values.get("ingredients", []))
    sources = values.get("sources", [])
    return substance.ingredient_problems(
        ingredients, values.get("classes", []), sources
    ) + substance.reference_problems(sources, substance.review_by)


def _write_aliases(substance: Substance, names: list[str]) -> None:
    """Delete the names no longer wanted first, then add the new ones (a renamed name
    with the same normalised form would otherwise collide with itself)."""
    history_user = getattr(substance, "_history_user", None)
    kept = set(names)
    for alias in substance.aliases.all():
        if alias.name not in kept:
            alias._history_user = history_user
            alias.delete()
    present = set(substance.aliases.values_list("name", flat=True))
    for name in names:
        if name not in present:
            alias = SubstanceAlias(substance=substance, name=name)
            alias._history_user = history_user
            alias.save()


# --- Reading a proposal ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def _label(model, name: str) -> str:
    if name == ALIASES:
        return "Names"
    if name == "__all__":
        return "Row"
    return str(model._meta.get_field(name).verbose_name).capitalize()


def _shown(model, name: str, value: Any) -> str:
    """A value as an editor reads it: choice labels, related rows by name, lists joined."""
    if value in (None, "", []):
        return "—"
    if name == ALIASES:
        return "\n".join(value)
    field = model._meta.get_field(name)
    if field.many_to_many or field.many_to_one:
        # Lists one per line (the page breaks lines), so an added or removed row stands out.
        pks = value if field.many_to_many else [value]
        shown = sorted(str(row) for row in field.related_model._default_manager.filter(pk__in=pks))
        return "\n".join(shown + ["(a row since deleted)"] * (len(pks) - len(shown)))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def describe(change: KnowledgeChange) -> list[FieldChange]:
    """The fields a proposal changes, before and after, in the table's field order (every
    field for an added or deleted row)."""
    model = model_for(change.model_name)
    before, after = change.base or {}, change.proposed or {}
    names = [f.name for f in _fields(model)] + [f.name for f in model._meta.many_to_many]
    if model is Substance:
        names.append(ALIASES)
    every_field = change.kind != KnowledgeChange.Kind.CHANGE
    rows = []
    for name in names:
        if name not in before and name not in after:
            continue
        if every_field or before.get(name) != after.get(name):
            shown = (_shown(model, name, before.get(name)), _shown(model, name, after.get(name)))
            rows.append(FieldChange(_label(model, name), *shown))
    return rows


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(name for name in {*before, *after} if before.get(name) != after.get(name))
