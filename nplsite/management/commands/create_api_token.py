"""``python manage.py create_api_token USERNAME [--days N]``: issue an API token from the command line."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from nplsite.tokens import issue_api_token


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print its key (shown only here: only a hash is stored). It expires "
        "after API_TOKEN_LIFETIME_DAYS, or --days. Clients send it as `Authorization: Token <key>`."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="lifetime in days (default API_TOKEN_LIFETIME_DAYS)")

    def handle(self, *args, username, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if days is not None and days < 1:
            raise CommandError(f"--days must be at least 1, got {days}.")
        try:
            token, key = issue_api_token(user, lifetime=timedelta(days=days) if days else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(key)
        self.stderr.write(f"Token for {username}, expires {token.expiry:%Y-%m-%d %H:%M %Z}.")
