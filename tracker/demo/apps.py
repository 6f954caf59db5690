from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "tracker.demo"
    label = "demo"
    verbose_name = "Demo data"
