from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "tracker.security"
    label = "security"
    verbose_name = "Security"
