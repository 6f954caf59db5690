from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ModerationConfig(AppConfig):
    name = "tracker.moderation"
    label = "moderation"
    verbose_name = "Moderation"

    def ready(self) -> None:
        # projections registers the proposal and distinct-pair projectors (and their aggregates);
        # the catalog registers every app's proposable commands by name.
        from . import commands_catalog, projections, roles  # noqa: F401

        commands_catalog.register_catalog()
        # Models added after the roles migration still get their permissions granted.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="moderation.sync_roles")
