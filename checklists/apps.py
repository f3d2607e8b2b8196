from django.apps import AppConfig


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = "Caution checklists"
    default_auto_field = "django.db.models.BigAutoField"
