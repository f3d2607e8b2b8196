"""`manage.py shell` that imports every model, the content history included, without a warning.

Django 5.2's shell imports each model from f"{model.__module__}.{model.__name__}".
django-simple-history sets the historical models' __module__ to the app ("checklists")
but attaches the classes to the module of the model they track
(checklists.models.content, ...), so Django could not import 17 of them and printed
"17 objects could not be automatically imported". This command imports them from where
they really are.
"""

from __future__ import annotations

import sys

from django.apps import apps
from django.core.management.commands import shell


def importable_path(model) -> str | None:
    """Where `model` can be imported from: its __module__, else the app module holding it."""
    name = model.__name__
    declared = sys.modules.get(model.__module__)
    if declared is not None and getattr(declared, name, None) is model:
        return f"{model.__module__}.{name}"
    prefix = f"{model._meta.app_config.name}."
    for module_name in sorted(sys.modules):
        module = sys.modules[module_name]
        if module_name.startswith(prefix) and getattr(module, name, None) is model:
            return f"{module_name}.{name}"
    return None


class Command(shell.Command):
    def get_auto_imports(self) -> list[str]:
        # Same order as Django's: models of earlier apps win a name clash.
        paths = (importable_path(model) for model in reversed(apps.get_models()))
        return [path for path in paths if path]
