"""The admin's item form for clinical editors: every structured value of an item as fields
(rows, choices, check boxes), never as JSON typed by hand (issue 21).

Each group of fields cleans to exactly the JSON the model stores and a content file holds
(authoring/files.py), so the checklist pages, the diff, the hash and the import read the
same thing whatever wrote it. What the fields cannot express is refused with the reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from ..authoring.files import CHOICE_KINDS, SCREENING_ROLES, item_json_problem
from ..authoring.in_words import ROLE_LABELS
from ..authoring.validation import relabelled_codes_in_use
from ..conditions import parts
from ..models import (
    Item,
    ItemKind,
    Problem,
    Severity,
    Substance,
    TemplateVersion,
    VariabilityRule,
)
from ..models.knowledge import Agent
from .fields import RowListField

# Plain-language hints shown under the prompt and the help text.
PROMPT_HINT = (
    "Ask one thing, as you would say it to the patient or colleague: short everyday words, "
    "no abbreviations, 300 characters at most (about 20 words reads best)."
)
HELP_HINT = (
    "What the clinician needs to answer well: why it is asked, what counts. Short sentences; "
    "explain any medical term."
)

# "show when [item] [op] [answers]": the words an editor picks, and the stored operator.
SHOW_OPS = [
    ("", "Always show this question"),
    ("is", "is"),
    ("in", "is one of"),
    ("not", "is not"),
    ("answered", "has any answer"),
]
OPTION_COLUMNS = [("code", "Code (never changes once used)"), ("label", "Label the clinician sees")]
MAP_COLUMNS = [("code", "Answer code"), ("target", "Agent or factor it means")]


def _codes_of(item: Item) -> list[tuple[str, str]]:
    return [(o["code"], o["label"]) for o in item.choices]


def earlier_items(item: Item) -> list[Item]:
    """The items of the same version before `item` in checklist order (one query): the only
    ones a show-when may name (conditions.py settles them in one pass)."""
    if not item.pk or not item.version_id:
        return []
    rows = Item.objects.filter(version_id=item.version_id).select_related("section")
    ordered = sorted(rows, key=lambda i: (i.section.position, i.position, i.pk))
    return ordered[: [i.pk for i in ordered].index(item.pk)] if item in ordered else []


class ItemContentForm(forms.ModelForm):
    """An item with its options, show-when, caution, screening role and caution tags as
    fields; the JSON columns are written from them in `_post_clean`."""

    # 300: the longest label a content file allows (files.py); a longer one is cut, never
    # stored whole, and the code's 60 is checked with the content file's words.
    options_rows = RowListField(
        OPTION_COLUMNS, "code", max_length=300, required=False, label="Options"
    )
    show_item = forms.ChoiceField(
        required=False,
        label="Show this question when",
        error_messages={
            "invalid_choice": "“%(value)s” is not a question before this one in this version: "
            "a question may only depend on an earlier answer (checklists are answered in order)."
        },
    )
    show_op = forms.ChoiceField(choices=SHOW_OPS, required=False, label="Comparison")
    show_values = forms.MultipleChoiceField(
        required=False,
        label="Answers",
        help_text="Only answers of the question chosen above count; hold Ctrl (⌘) to pick several.",
    )
    # A second condition that must hold as well (stored as {"all": [first, second]}).
    also_item = forms.ChoiceField(
        required=False,
        label="and also when",
        error_messages=show_item.error_messages,
    )
    also_op = forms.ChoiceField(choices=SHOW_OPS, required=False, label="Second comparison")
    also_values = forms.MultipleChoiceField(required=False, label="Second condition's answers")
    caution_when = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Raise a caution when the answer is",
        help_text="New options appear here once the item is saved with them.",
        error_messages={
            "invalid_choice": "“%(value)s” is not one of this question's answers; save new "
            "options first, then tick them here."
        },
    )
    caution_severity = forms.ChoiceField(required=False, label="Severity")
    caution_problem = forms.ChoiceField(required=False, label="Problem (from the catalogue)")
    caution_title = forms.CharField(
        required=False,
        max_length=200,
        label="Caution title",
        help_text="State the problem, not a question (“Opioid use reported or not ruled out”).",
    )
    caution_advice = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Advice"
    )
    screening_role = forms.ChoiceField(required=False, label="Screening role")
    screening_map = RowListField(MAP_COLUMNS, "code", required=False, label="Answer means")
    screening_classes = forms.MultipleChoiceField(
        required=False, label="Medicine classes that answer it"
    )
    tags = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Source-document cautions this item covers",
    )

    class Meta:
        model = Item
        # The JSON columns (options, show_when, caution, screening, caution_tags) are
        # written from the structured fields, never edited as text.
        fields = [
            "version",
            "section",
            "key",
            "position",
            "prompt",
            "help_text",
            "kind",
            "required",
            "reviewed_on",
            "review_by",
        ]
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 2, "maxlength": 300, "data-count": ""}),
            "help_text": forms.Textarea(attrs={"rows": 4, "data-count": ""}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        item = self.instance
        self.earlier = earlier_items(item)
        for name, hint in (("prompt", PROMPT_HINT), ("help_text", HELP_HINT)):
            if name in self.fields:
                self.fields[name].help_text = hint
        self._choices(item)
        if not self.is_bound:
            self.initial.update(self._initial_from(item))

    def _choices(self, item: Item) -> None:
        self.fields["show_item"].choices = [("", "—")] + [
            (i.key, f"{i.section.title}: {i.prompt}") for i in self.earlier
        ]
        self.fields["show_values"].choices = [
            (f"{i.prompt[:60]}", [(f"{i.key}:{code}", label) for code, label in _codes_of(i)])
            for i in self.earlier
            if i.choices
        ]
        self.fields["also_item"].choices = self.fields["show_item"].choices
        self.fields["also_values"].choices = self.fields["show_values"].choices
        self.fields["caution_when"].choices = _codes_of(item)
        self.fields["caution_severity"].choices = [("", "No caution")] + Severity.choices
        self.fields["caution_problem"].choices = [("", "—")] + list(
            Problem.objects.order_by("title").values_list("key", "title")
        )
        self.fields["screening_role"].choices = [("", "None")] + [
            (role, ROLE_LABELS.get(role, role)) for role in sorted(SCREENING_ROLES)
        ]
        self.fields["screening_classes"].choices = list(
            Substance.objects.filter(kind=Substance.Kind.DRUG_CLASS)
            .order_by("name")
            .values_list("key", "name")
        )
        self.fields["screening_map"].help_text = "Agents: {}. Factors: {}.".format(
            ", ".join(Agent.values), ", ".join(VariabilityRule.Factor.values)
        )
        used = (
            Item.objects.filter(
                Q(version_id=item.version_id) | Q(version__status=TemplateVersion.Status.PUBLISHED)
            )
            .exclude(caution_tags=[])
            .values_list("caution_tags", flat=True)
        )
        tags = sorted({tag for row in used for tag in row} | set(item.caution_tags or []))
        self.fields["tags"].choices = [(t, t.replace("_", " ").capitalize()) for t in tags]

    @staticmethod
    def _initial_from(item: Item) -> dict[str, Any]:
        """The stored JSON as the fields' starting values."""
        initial: dict[str, Any] = {"options_rows": list(item.options or [])}
        for prefix, part in zip(("show", "also"), parts(item.show_when), strict=False):
            op = {"equals": "is", "includes": "is", "in": "in", "not_equals": "not"}.get(
                part["op"], part["op"]
            )
            value = part.get("value")
            values = value if isinstance(value, list) else [] if value is None else [value]
            initial.update(
                {
                    f"{prefix}_item": part["item"],
                    f"{prefix}_op": op,
                    f"{prefix}_values": [f"{part['item']}:{v}" for v in values],
                }
            )
        caution = item.caution or {}
        if caution:
            initial.update(
                caution_when=caution.get("when", []),
                caution_severity=caution.get("severity", ""),
                caution_problem=caution.get("problem", ""),
                caution_title=caution.get("title", ""),
                caution_advice=caution.get("advice", ""),
            )
        screening = item.screening or {}
        initial.update(
            screening_role=screening.get("role", ""),
            screening_map=[{"code": k, "target": v} for k, v in screening.get("map", {}).items()],
            screening_classes=screening.get("classes", []),
            tags=list(item.caution_tags or []),
        )
        return initial

    # --- cleaning: fields → the stored JSON ------------------------------------------------

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.instance.kind
        self.json_values = {
            "options": self._options(data, kind),
            "show_when": self._show_when(data),
            "caution": self._caution(data, kind),
            "screening": self._screening(data),
            "caution_tags": list(data.get("tags") or []),
        }
        if not self.errors:
            item = {**self.json_values, "cautions": self.json_values["caution_tags"]}
            problem = item_json_problem(item)
            if problem:
                raise ValidationError(problem)
        return data

    def _options(self, data, kind: str) -> list[dict[str, str]]:
        rows = [{"code": r["code"], "label": r["label"]} for r in data.get("options_rows") or []]
        if kind not in CHOICE_KINDS:
            if rows:
                self.add_error(
                    "options_rows",
                    "Only single- and multiple-choice questions have options of their own "
                    "(yes/no/unknown has fixed ones); clear these rows or change the kind.",
                )
            return []
        for row in rows:
            if not row["label"]:
                self.add_error("options_rows", f"Option {row['code']!r} needs a label.")
        codes = [row["code"] for row in rows]
        if len(codes) != len(set(codes)):
            self.add_error("options_rows", "Each option needs its own code.")
        elif self.instance.version_id and self.instance.key:
            labels = {self.instance.key: {r["code"]: r["label"] for r in rows}}
            for reason in relabelled_codes_in_use(self.instance.version, labels=labels):
                self.add_error("options_rows", reason)
        return rows

    def _show_when(self, data) -> dict | None:
        """One condition, or two joined by "and" ({"all": [...]})."""
        first = self._condition(data, "show")
        also = self._condition(data, "also")
        if also is None:
            return first
        if first is None:
            if not self.errors:
                self.add_error("show_item", "Fill in the first condition before “and also”.")
            return None
        if any(p["op"] == "in" and len(p["value"]) > 1 for p in (first, also)):
            self.add_error(
                "also_op",
                "With “and also”, each condition compares with one answer: FHIR's enableWhen "
                "cannot join “one of” several answers with “and”.",
            )
            return None
        return {"all": [first, also]}

    def _condition(self, data, prefix: str) -> dict | None:
        key, op = data.get(f"{prefix}_item"), data.get(f"{prefix}_op")
        picked = data.get(f"{prefix}_values") or []
        if not key and not op:
            if picked:
                self.add_error(f"{prefix}_item", "Choose the question these answers belong to.")
            return None
        if not key or not op:
            self.add_error(f"{prefix}_item", "Choose both the earlier question and the comparison.")
            return None
        source = next(i for i in self.earlier if i.key == key)
        codes = [v.split(":", 1)[1] for v in picked if v.split(":", 1)[0] == key]
        if len(codes) != len(picked):
            self.add_error(f"{prefix}_values", "Pick only answers of the question chosen above.")
            return None
        if op == "answered":
            return {"item": key, "op": "answered"}
        return self._comparison(source, op, codes, prefix)

    def _comparison(self, source: Item, op: str, codes: list[str], prefix: str) -> dict | None:
        multi = source.kind == ItemKind.MULTI_CHOICE
        if not codes:
            self.add_error(f"{prefix}_values", "Pick the answer(s) the comparison is about.")
            return None
        if op == "in":
            # On a multiple-choice answer: shown when any of these is among the answers
            # ("taking or considering kratom"; conditions.py).
            return {"item": source.key, "op": "in", "value": codes}
        if len(codes) > 1:
            self.add_error(
                f"{prefix}_values",
                f"“{dict(SHOW_OPS)[op]}” compares with one answer; pick one, or use “is one "
                "of” for several.",
            )
            return None
        if op == "not" and multi:
            self.add_error(
                f"{prefix}_op", "“is not” cannot be said of a multiple-choice answer; use “is”."
            )
            return None
        stored = {"is": "includes" if multi else "equals", "not": "not_equals"}[op]
        return {"item": source.key, "op": stored, "value": codes[0]}

    def _caution(self, data, kind: str) -> dict | None:
        fields = ("caution_when", "caution_severity", "caution_title", "caution_advice")
        if not any(data.get(name) for name in (*fields, "caution_problem")):
            return None
        needs = ("the answers that raise it", "a severity", "a title", "the advice")
        for name, what in zip(fields, needs, strict=True):
            if not data.get(name):
                self.add_error(name, f"A caution needs {what}.")
        if self.errors:
            return None
        caution = {
            "when": list(data["caution_when"]),
            "severity": data["caution_severity"],
            "title": data["caution_title"].strip(),
            "advice": data["caution_advice"].strip(),
        }
        if data.get("caution_problem"):
            caution["problem"] = data["caution_problem"]
        return caution

    def _screening(self, data) -> dict | None:
        role = data.get("screening_role")
        mapping = {r["code"]: r["target"] for r in data.get("screening_map") or []}
        classes = list(data.get("screening_classes") or [])
        if not role:
            if mapping or classes:
                self.add_error("screening_role", "Choose the role these answers play.")
            return None
        screening: dict[str, Any] = {"role": role}
        # Keys this form does not edit (an age band's ages, a legal check's substance, the
        # monitoring plan's problems: content README) stay while the role stays: dropping
        # them would silently change what the item does.
        before = self.instance.screening or {}
        if before.get("role") == role:
            screening.update(
                {k: v for k, v in before.items() if k not in ("role", "map", "classes")}
            )
        if role in ("substances", "factors"):
            screening["map"] = mapping
        elif mapping:
            self.add_error("screening_map", "Only substance and factor roles map answers.")
        if role == "medicine_question":
            if not classes:
                self.add_error("screening_classes", "Pick the classes that answer the question.")
            screening["classes"] = classes
        elif classes:
            self.add_error("screening_classes", "Only a medicine question names classes.")
        return screening

    def _post_clean(self):
        for name, value in getattr(self, "json_values", {}).items():
            setattr(self.instance, name, value)
        super()._post_clean()
