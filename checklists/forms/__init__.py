"""Forms: they validate and clean, nothing more (checks of who is signing, file hashes
and every write belong to the write functions in cases/ and suppliers/).

One way to draw forms: every form is drawn by django-crispy-forms with the Bootstrap 5
pack (`{{ form|crispy }}` or `{{ form.field|as_crispy_field }}`), which gives each field
its label, help text and errors in accessible markup. The one exception is a checklist
section (`SectionForm`): each of its fields is an item of the checklist and carries more
than a form field has (its citations, its show-when condition, a carried-forward mark),
so templates/checklists/_item_field.html draws it around the field's own widget. Under
both, Django's plain widgets are written by `forms_renderer.FastWidgetRenderer` (same
characters as Django's templates, faster on a 60-question page).

The modules: fields (shared field types), cases, filters (case list, audit, export),
sections, signing (sign, amend, return, restart) and suppliers (lots, certificates).
"""

from .cases import CaseEditForm, CaseForm
from .fields import PlainTextField, RowListField, clean_text
from .filters import AuditFilterForm, CaseFilterForm, CaseSearchForm, ExportFilterForm
from .sections import SectionForm, field_for_item, from_storage, to_storage
from .signing import AmendForm, RestartForm, ReturnForm, SignForm, ack_field_prefix
from .suppliers import COAForm, LotForm

__all__ = [
    "AmendForm",
    "AuditFilterForm",
    "COAForm",
    "CaseEditForm",
    "CaseFilterForm",
    "CaseForm",
    "CaseSearchForm",
    "ExportFilterForm",
    "LotForm",
    "PlainTextField",
    "RestartForm",
    "ReturnForm",
    "RowListField",
    "SectionForm",
    "SignForm",
    "ack_field_prefix",
    "clean_text",
    "field_for_item",
    "from_storage",
    "to_storage",
]
