import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from nplsite.roles import ANALYST, AUDITOR, MODEL_ADMIN

DEMO_USERS = (
    ("analyst", ANALYST, False),
    ("modeladmin", MODEL_ADMIN, True),
    ("checker", MODEL_ADMIN, True),  # a second model admin: four eyes approve what the first proposes
    ("auditor", AUDITOR, False),  # reads the audit log and the override report, changes nothing
)


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo users, 'analyst' (Analyst), 'modeladmin' and 'checker' (Model admins) and "
        "'auditor' (Auditor), with fresh random passwords printed here and nowhere else. Development only (DEBUG on)."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            # Known user names with passwords printed to a terminal belong to a demo, never to production.
            raise CommandError(
                "Refusing to create demo users: DEBUG is off (a production setup). Create the first account with "
                "`python manage.py createsuperuser` and the others in the admin (see the README)."
            )
        User = get_user_model()
        lines = []
        with transaction.atomic():
            for username, role, is_staff in DEMO_USERS:
                password = secrets.token_urlsafe(12)
                user, created = User.objects.get_or_create(username=username)
                user.is_staff = is_staff
                user.is_active = True
                user.set_password(password)
                user.save()
                user.groups.set([Group.objects.get(name=role)])
                lines.append((username, role, password, "created" if created else "password reset"))
        for username, role, password, what in lines:
            self.stdout.write(f"{role:<12} user: {username:<11} password: {password}   ({what})")
