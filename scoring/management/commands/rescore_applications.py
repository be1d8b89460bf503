"""``python manage.py rescore_applications --user USERNAME [--language id|en]``: re-score every stored
application as a batch job (the batch page's "Re-score all stored applications"), and print the job's id.

The job is the web page's: at most ``BATCH_INLINE_MAX_ROWS`` applications are scored here before the
command returns; more are queued for the workers, and the command returns at once (follow the job on
its page, ``/batch/<id>/``). Only a model admin may start it.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from scoring.batch_jobs import RescoreError, submit_rescore


class Command(BaseCommand):
    help = (
        "Re-score every stored application with the active model and decision policy, as a batch job (scored here "
        "when there are at most BATCH_INLINE_MAX_ROWS, else queued for the workers). Prints the job's id on the "
        "first line. Only a model admin may."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the model admin who starts the job (user name)")
        parser.add_argument(
            "--language",
            choices=[code for code, _ in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="the language of the reasons in the results file (default: LANGUAGE_CODE, %(default)s)",
        )

    def handle(self, *args, user, language, **options):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user is named {user!r}.")
        if not account.is_active:
            raise CommandError(f"User {user!r} is deactivated.")
        try:
            with translation.override(language):
                job = submit_rescore(account)  # refuses anyone but a model admin
        except PermissionDenied as exc:
            raise CommandError(f"User {user!r}: {exc}") from None
        except RescoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(job.id)
        if job.status == job.Status.FAILED:
            raise CommandError(f"Batch job {job.id} failed: {job.error}")
        if job.status == job.Status.SUCCEEDED:
            self.stdout.write(
                f"Re-scored {job.summary.get('applications_scored', 0)} stored applications"
                f" with {job.summary.get('model_version', '')}."
            )
        else:
            parts = settings.BATCH_CHUNK_APPLICATIONS
            self.stdout.write(f"Queued for the workers: {job.rows} stored applications in parts of {parts}.")
