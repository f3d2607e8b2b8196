from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import events, lockout, sessions  # noqa: F401  (lockout: the lockout audit receiver)

        # Every way in (login page, admin, test client) starts the session clocks; the
        # signal is the one place all of them pass through.
        user_logged_in.connect(sessions.stamp_login, dispatch_uid="accounts.stamp_login")
        # Before django.contrib.auth connects the receiver that moves last_login on (this
        # app comes first in INSTALLED_APPS), so the previous login is still known here.
        user_logged_in.connect(events.remember_changes, dispatch_uid="accounts.remember_changes")
