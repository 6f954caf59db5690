"""Create the local curator login once and print it; later runs reuse the same password."""
from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

CURATOR_GROUP = "curator"


def password_file_default() -> Path:
    return Path(settings.BASE_DIR) / "var" / "curator-password.txt"


def read_or_create_password(path: Path) -> tuple[str, bool]:
    """Return the password stored in `path` (generating and storing one, mode 600, if missing)
    and whether it was generated now."""
    if path.exists():
        stored = path.read_text().strip()
        if stored:
            return stored, False
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(password + "\n")
    return password, True


class Command(BaseCommand):
    help = (
        "Create the user 'curator' (staff, in the 'curator' group when it exists) if missing, "
        "with a password generated once and kept in var/curator-password.txt."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--username", default="curator")
        parser.add_argument(
            "--password-file",
            type=Path,
            default=None,
            help="Where the generated password is kept (default: var/curator-password.txt).",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        username = options["username"]
        path = options["password_file"] or password_file_default()
        password, generated = read_or_create_password(path)
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            created = user is None
            if created:
                user = User(username=username, is_staff=True, is_active=True)
                user.set_password(password)
                user.save()
            else:
                if generated:
                    # The file with its password is gone, so nobody knows it: use the new one.
                    user.set_password(password)
                user.is_staff = True
                user.save(update_fields=["password", "is_staff"])
            group = Group.objects.filter(name=CURATOR_GROUP).first()
            if group is not None:
                user.groups.add(group)
        if group is None:
            self.stderr.write(
                f"note: no '{CURATOR_GROUP}' group exists yet, so '{username}' is staff without permissions"
            )
        if created or user.check_password(password):
            self.stdout.write(f"login: {username} / {password}")
        else:
            self.stdout.write(
                f"login: {username} (its password was changed since {path.name} was written; not shown)"
            )
