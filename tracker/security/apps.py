from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "tracker.security"
    label = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from . import checks, throttle  # noqa: F401 - registers the deploy checks and login signals
