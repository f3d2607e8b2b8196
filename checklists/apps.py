from django.apps import AppConfig


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = "Caution checklists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import refdata, sessions, signals  # noqa: F401  (signals: the audit receivers)

        refdata.connect_signals()
        # Every way in (login page, admin, test client) starts the session clocks; the
        # signal is the one place all of them pass through.
        user_logged_in.connect(sessions.stamp_login, dispatch_uid="checklists.stamp_login")
