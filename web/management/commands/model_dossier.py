"""``python manage.py model_dossier <id>``: write a model version's dossier (PDF, and optionally XLSX)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from training.models import ModelVersion
from web.dossier import LANGUAGES, dossier_filename, dossier_pdf, dossier_xlsx


class Command(BaseCommand):
    help = (
        "Write the dossier of a model version: a dated PDF with every figure a credit validator signs, "
        "and with --xlsx the same tables as a workbook."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", type=int, help="the model version's id (Models → a version: #id)")
        parser.add_argument("--language", choices=LANGUAGES, default="en", help="the document's language")
        parser.add_argument(
            "--out", default=None, help="the PDF's path (default: model-<id>-dossier-<date>-<language>.pdf here)"
        )
        parser.add_argument("--xlsx", action="store_true", help="also write the tables as an XLSX workbook beside it")

    def handle(self, *args, version, language, out, xlsx, **options):
        found = ModelVersion.objects.filter(pk=version).first()
        if found is None:
            known = ", ".join(f"#{pk}" for pk in ModelVersion.objects.order_by("-pk").values_list("pk", flat=True)[:10])
            raise CommandError(f"No model version #{version}. Known versions: {known or 'none (train one first)'}.")
        pdf_path = Path(out) if out else Path(dossier_filename(found, "pdf", language))
        if pdf_path.parent and not pdf_path.parent.is_dir():
            raise CommandError(f"The folder {pdf_path.parent} does not exist.")
        pdf_path.write_bytes(dossier_pdf(found, language))
        self.stdout.write(f"Wrote the dossier of {found.name} #{found.pk} ({language}): {pdf_path}")
        if xlsx:
            xlsx_path = pdf_path.with_suffix(".xlsx")
            xlsx_path.write_bytes(dossier_xlsx(found, language))
            self.stdout.write(f"Wrote its tables: {xlsx_path}")
