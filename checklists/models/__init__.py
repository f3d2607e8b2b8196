from .audit import AuditEvent
from .cases import (
    Acknowledgement,
    AmendmentRequest,
    Answer,
    ChecklistResponse,
    MedicationEntry,
    PatientCase,
    Team,
)
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
from .knowledge import (
    Agent,
    CombinationRule,
    InteractionRule,
    Problem,
    Substance,
    SubstanceAlias,
    VariabilityRule,
    normalise_name,
)
from .legal import Jurisdiction, LegalStatus
from .proposals import DecidedProposalError, KnowledgeChange
from .releases import ContentRelease, DecidedReleaseError
from .stamp import ReferenceDataStamp
from .suppliers import CertificateOfAnalysis, LabLimit, Lot, Product, Supplier

__all__ = [
    "AmendmentRequest",
    "ReferenceDataStamp",
    "ContentRelease",
    "DecidedReleaseError",
    "CertificateOfAnalysis",
    "DecidedProposalError",
    "Jurisdiction",
    "KnowledgeChange",
    "LabLimit",
    "LegalStatus",
    "Lot",
    "Product",
    "Supplier",
    "Acknowledgement",
    "MedicationEntry",
    "Agent",
    "InteractionRule",
    "CombinationRule",
    "Problem",
    "Substance",
    "SubstanceAlias",
    "VariabilityRule",
    "normalise_name",
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
