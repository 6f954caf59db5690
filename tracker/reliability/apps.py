from django.apps import AppConfig


class ReliabilityConfig(AppConfig):
    name = "tracker.reliability"
    label = "reliability"
    verbose_name = "Reliability"
