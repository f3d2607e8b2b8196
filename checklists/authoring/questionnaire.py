"""A checklist version as a FHIR R4B Questionnaire.

Built as plain JSON, then checked twice: by fhir.resources' R4B models (structure and
data types) and by `questionnaire_problems` below, which checks what that library leaves
to the caller: the required value sets (publication status, item type, enableWhen
operator, enableBehavior) and the Questionnaire invariants que-1, que-2, que-6, que-7
and que-12.
"""

from __future__ import annotations

import re
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from ..models import Item, ItemKind, Section, TemplateVersion

STATUS = {
    TemplateVersion.Status.DRAFT: "draft",
    TemplateVersion.Status.IN_REVIEW: "draft",
    TemplateVersion.Status.PUBLISHED: "active",
    TemplateVersion.Status.RETIRED: "retired",
}
# Value sets with a required binding in R4B.
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
ITEM_TYPES = {
    "group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
    "string", "text", "url", "choice", "open-choice", "attachment", "reference", "quantity",
}  # fmt: skip
ENABLE_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
ENABLE_BEHAVIORS = {"all", "any"}
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"

SIMPLE_TYPES = {
    ItemKind.SHORT_TEXT: "string",
    ItemKind.LONG_TEXT: "text",
    ItemKind.NUMBER: "decimal",
    ItemKind.DATE: "date",
    ItemKind.JURISDICTION: "string",
}
# Structured kinds are repeating groups of text fields, one group per row.
ROW_FIELDS = {
    ItemKind.MEDICATION_LIST: [("name", "Medicine"), ("dose", "Dose"), ("frequency", "How often")],
    ItemKind.PRODUCT_LOT: [("product", "Product"), ("supplier", "Supplier"), ("lot", "Lot")],
}


def option_system(version: TemplateVersion, item_key: str) -> str:
    """Each item's option codes form their own code system under the canonical url."""
    return f"{version.template.canonical_url.rstrip('/')}/options/{item_key}"


def _fhir_id(slug: str) -> str:
    return re.sub(r"[^A-Za-z0-9\-.]", "-", slug)[:64]


def _name(slug: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", slug) if part)


def _enable_when(
    condition: dict[str, Any], version: TemplateVersion
) -> tuple[list[dict[str, Any]], str | None]:
    """FHIR's enableWhen for a condition. enableWhen is one flat list under one behaviour,
    so "all" of several parts is "all" of their checks. A part needing "any" of several
    values inside "all" has no flat form: `content_problems` refuses it before publishing."""
    if "all" in condition:
        checks = []
        for part in condition["all"]:
            checks += _enable_when(part, version)[0]
        return checks, "all"
    question = condition["item"]
    op = condition["op"]
    if op == "answered":
        return [{"question": question, "operator": "exists", "answerBoolean": True}], None

    def coding(code: str) -> dict[str, str]:
        return {"system": option_system(version, question), "code": code}

    if op == "in":
        checks = [
            {"question": question, "operator": "=", "answerCoding": coding(code)}
            for code in condition["value"]
        ]
        return checks, ("any" if len(checks) > 1 else None)
    # "includes" on a repeating choice is FHIR's "=": true when any answer matches.
    operator = "!=" if op == "not_equals" else "="
    return [
        {"question": question, "operator": operator, "answerCoding": coding(condition["value"])}
    ], None


def _question(item: Item, version: TemplateVersion) -> dict[str, Any]:
    entry: dict[str, Any] = {"linkId": item.key, "text": item.prompt}
    if item.kind in ROW_FIELDS:
        entry.update(type="group", repeats=True)
        entry["item"] = [
            {"linkId": f"{item.key}.{name}", "text": label, "type": "string"}
            for name, label in ROW_FIELDS[item.kind]
        ]
    elif item.kind in SIMPLE_TYPES:
        entry["type"] = SIMPLE_TYPES[item.kind]
    else:
        entry["type"] = "choice"
        if item.kind == ItemKind.MULTI_CHOICE:
            entry["repeats"] = True
        entry["answerOption"] = [
            {
                "valueCoding": {
                    "system": option_system(version, item.key),
                    "code": option["code"],
                    "display": option["label"],
                }
            }
            for option in item.choices
        ]
    entry["required"] = item.required
    if item.show_when:
        checks, behaviour = _enable_when(item.show_when, version)
        entry["enableWhen"] = checks
        if behaviour:
            entry["enableBehavior"] = behaviour
    if item.help_text:
        help_item = {
            "linkId": f"{item.key}.help",
            "text": item.help_text,
            "type": "display",
            "extension": [
                {
                    "url": ITEM_CONTROL,
                    "valueCodeableConcept": {
                        "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "help"}]
                    },
                }
            ],
        }
        entry["item"] = [*entry.get("item", []), help_item]
    return entry


def questionnaire(version: TemplateVersion) -> dict[str, Any]:
    """The version as a Questionnaire: one group per section, items nested inside."""
    template = version.template
    sections = list(Section.objects.filter(version=version).order_by("position"))
    items = list(Item.objects.filter(version=version).order_by("position"))
    groups = []
    for section in sections:
        children = [_question(i, version) for i in items if i.section_id == section.id]
        if section.intro:
            children.insert(
                0, {"linkId": f"{section.key}.intro", "text": section.intro, "type": "display"}
            )
        groups.append(
            {"linkId": section.key, "text": section.title, "type": "group", "item": children}
        )
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": _fhir_id(f"{template.slug}-v{version.number}"),
        "url": template.canonical_url,
        "version": str(version.number),
        "name": _name(template.slug),
        "title": template.title,
        "status": STATUS[version.status],
        "subjectType": ["Patient"],
    }
    if version.published_at:
        resource["date"] = version.published_at.isoformat().replace("+00:00", "Z")
    if template.description:
        resource["description"] = template.description
    if version.content_hash:
        resource["identifier"] = [
            {"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{version.content_hash}"}
        ]
    resource["item"] = groups
    return resource


def questionnaire_problems(resource: dict[str, Any]) -> list[str]:
    """What fhir.resources does not check: required value sets and the invariants."""
    problems = []
    if resource.get("status") not in PUBLICATION_STATUS:
        problems.append(f"status {resource.get('status')!r} is not a publication status")
    seen: list[str] = []

    def walk(items: list[dict[str, Any]], path: str) -> None:
        for index, item in enumerate(items):
            where = f"{path}[{index}] ({item.get('linkId')})"
            seen.append(item.get("linkId"))
            kind = item.get("type")
            if kind not in ITEM_TYPES:
                problems.append(f"{where}: type {kind!r} is not an item type")
            children = item.get("item") or []
            if kind == "group" and not children:
                problems.append(f"{where}: a group has no items (que-1)")
            if kind == "display" and (children or "required" in item or "repeats" in item):
                problems.append(f"{where}: a display item has items, required or repeats")
            checks = item.get("enableWhen") or []
            for check in checks:
                if check.get("operator") not in ENABLE_OPERATORS:
                    problems.append(f"{where}: enableWhen operator {check.get('operator')!r}")
                if check.get("operator") == "exists" and "answerBoolean" not in check:
                    problems.append(f"{where}: 'exists' needs answerBoolean (que-7)")
                if check.get("question") not in seen:
                    problems.append(f"{where}: enableWhen refers to a missing or later item")
            if len(checks) > 1 and item.get("enableBehavior") not in ENABLE_BEHAVIORS:
                problems.append(f"{where}: several enableWhen need enableBehavior (que-12)")
            if "enableBehavior" in item and item["enableBehavior"] not in ENABLE_BEHAVIORS:
                problems.append(f"{where}: enableBehavior {item['enableBehavior']!r}")
            walk(children, f"{where}.item")

    walk(resource.get("item") or [], "item")
    repeated = sorted({link for link in seen if seen.count(link) > 1})
    if repeated:
        problems.append(f"linkId repeats: {repeated} (que-2)")
    return problems


class InvalidQuestionnaire(ValueError):
    pass


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as fhir.resources serialises it, or InvalidQuestionnaire."""
    problems = questionnaire_problems(resource)
    if problems:
        raise InvalidQuestionnaire("; ".join(problems))
    model = Bundle if resource["resourceType"] == "Bundle" else Questionnaire
    try:
        parsed = model.model_validate(resource)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise InvalidQuestionnaire(str(error)) from None
    return parsed.model_dump(mode="json", exclude_none=True)


def export(versions: list[TemplateVersion]) -> dict[str, Any]:
    """One Questionnaire, or a collection Bundle of them when several are exported."""
    resources = [validated(questionnaire(v)) for v in versions]
    if len(resources) == 1:
        return resources[0]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{r['url']}|{r['version']}", "resource": r} for r in resources],
    }
    return Bundle.model_validate(bundle).model_dump(mode="json", exclude_none=True)
