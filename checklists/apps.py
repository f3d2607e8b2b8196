from django.apps import AppConfig


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = "Caution checklists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import refdata, signals  # noqa: F401  (signals: the audit receivers)

        refdata.connect_signals()
