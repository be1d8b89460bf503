"""What every benchmark's Django run shares: production-like settings in a scratch folder.

``python benchmarks/<script>.py`` puts this folder on ``sys.path``, so the scripts import it by name.
"""

import os
import resource
import secrets
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def production_like_environment(data_dir, **settings: str) -> dict[str, str]:
    """Environment variables for a run whose files go to ``data_dir``: ``DEBUG`` off (no query log kept
    in memory, the templates and static files of production), a throwaway secret key, warnings
    only; ``settings`` adds or overrides variables (``DATABASE_URL``, ``ALLOWED_HOSTS``, …)."""
    return {
        "DJANGO_SETTINGS_MODULE": "nplsite.settings",
        "DATA_DIR": str(data_dir),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        **settings,
    }


def setup_django(data_dir, **settings: str) -> None:
    """Set :func:`production_like_environment` in this process and start Django in it."""
    os.environ.update(production_like_environment(data_dir, **settings))
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def import_generated_book(workdir: Path, applicants: int, as_of) -> Path:
    """A generated loan book of ``applicants`` (seed 11, labels as of ``as_of``) written to
    ``workdir/loans.csv`` (its truth beside it) and imported, reporting on stderr; the book's path."""
    from django.core.management import call_command

    book = workdir / "loans.csv"
    call_command(
        "generate_loans",
        applicants=applicants,
        seed=11,
        as_of=as_of,
        out=book,
        truth=workdir / "truth.csv",
        stdout=sys.stderr,
    )
    call_command("import_loans", str(book), as_of=as_of, no_progress=True, stdout=sys.stderr)
    return book


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
