"""Roles as Django groups with explicit permissions (created by load_default_content)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

CLINICIAN = "Clinicians"
CONTENT_EDITOR = "Content editors"
AUDITOR = "Auditors"
SUPERVISOR = "Supervisors"

# The tables content editors maintain in the admin: view, add, change and delete on each.
# A new editor-owned table (the legal status and lab-limit tables, for instance) joins the
# group by adding its model name here; clinicians get none of these.
CONTENT_MODELS = [
    # checklist content
    "checklisttemplate",
    "templateversion",
    "section",
    "item",
    "citation",
    "source",
    # knowledge
    "substance",
    "substancealias",
    "interactionrule",
    "variabilityrule",
    "jurisdiction",
    "legalstatus",
    "lablimit",
    "problem",
    "combinationrule",
]
# Beyond the model permissions: approving a version (the second editor of the two-person
# rule); proposing a change to the knowledge tables (what saving one of their admin pages
# does) and approving another editor's (the knowledge's two-person rule). Proposals are
# never changed or deleted, so no change or delete permission on them; nor are the
# knowledge releases the deploy records (approving one needs approve_knowledgechange).
CONTENT_EXTRA_PERMISSIONS = [
    "publish_templateversion",
    "view_knowledgechange",
    "add_knowledgechange",
    "approve_knowledgechange",
    "view_contentrelease",
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
        *(
            f"{action}_{model}"
            for model in CONTENT_MODELS
            for action in ("view", "add", "change", "delete")
        ),
        *CONTENT_EXTRA_PERMISSIONS,
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
