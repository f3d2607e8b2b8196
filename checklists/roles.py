"""Roles as Django groups with explicit permissions (created by load_default_content)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

CLINICIAN = "Clinicians"
CONTENT_EDITOR = "Content editors"
AUDITOR = "Auditors"
SUPERVISOR = "Supervisors"

_CONTENT_MODELS = [
    "checklisttemplate",
    "templateversion",
    "section",
    "item",
    "citation",
    "source",
    "substance",
    "substancealias",
    "interactionrule",
    "variabilityrule",
    "jurisdiction",
    "legalstatus",
    "lablimit",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    CLINICIAN: [
        "view_patientcase",
        "add_patientcase",
        "change_patientcase",
        "view_checklistresponse",
        "add_checklistresponse",
        "change_checklistresponse",
        "view_answer",
        "add_answer",
        "change_answer",
        "view_lot",
        "add_lot",
        "view_certificateofanalysis",
        "add_certificateofanalysis",
    ],
    SUPERVISOR: [
        "view_patientcase",
        "view_checklistresponse",
        "view_answer",
        "return_checklistresponse",
        "export_responses",
    ],
    AUDITOR: [
        "view_auditevent",
        "view_patientcase",
        "view_checklistresponse",
        "view_answer",
        "export_responses",
    ],
    CONTENT_EDITOR: [
        f"{action}_{model}"
        for model in _CONTENT_MODELS
        for action in ("view", "add", "change", "delete")
    ],
}


def ensure_roles() -> dict[str, Group]:
    """Create the groups and set exactly their permissions. Idempotent."""
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="checklists", codename__in=codenames
        )
        if len(permissions) != len(set(codenames)):
            missing = set(codenames) - {p.codename for p in permissions}
            raise LookupError(f"Unknown permissions for {name}: {sorted(missing)}")
        group.permissions.set(permissions)
        groups[name] = group
    return groups
