"""Roles as groups (reader, contributor, curator, admin) and the robot user."""
from django.contrib.auth.hashers import make_password
from django.contrib.auth.management import create_permissions
from django.db import migrations

from tracker.moderation.roles import CONTRIBUTOR, ROBOT_USERNAME, sync_roles


def create_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Permissions are normally created after `migrate` finishes; create them now so the
    # groups can be granted them in this migration.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    sync_roles(Group=Group, Permission=Permission)
    robot, _ = User.objects.get_or_create(
        username=ROBOT_USERNAME,
        defaults={"password": make_password(None), "is_active": True, "first_name": "News robot"},
    )
    robot.groups.add(Group.objects.get(name=CONTRIBUTOR))


def drop_roles(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("auth", "User").objects.filter(username=ROBOT_USERNAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("people", "0001_initial"),
        ("meetings", "0001_initial"),
        ("eventstore", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
