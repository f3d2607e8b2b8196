from .audit import AuditEvent
from .cases import Answer, ChecklistResponse, PatientCase, Team
from .content import (
    ChecklistTemplate,
    Citation,
    ImmutableContentError,
    Item,
    ItemKind,
    Section,
    Severity,
    Source,
    TemplateVersion,
)

__all__ = [
    "Answer",
    "AuditEvent",
    "ChecklistResponse",
    "ChecklistTemplate",
    "Citation",
    "ImmutableContentError",
    "Item",
    "ItemKind",
    "PatientCase",
    "Section",
    "Severity",
    "Source",
    "Team",
    "TemplateVersion",
]
