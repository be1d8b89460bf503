"""The first reason codes (bilingual). (The queue's index, first made here with SQL, is declared on
the Prediction model instead: ``prediction_review_queue_idx``, scoring's migration 0009.)"""

from django.db import migrations

REASON_CODES = [
    # (code, English, Indonesian, applies_to)
    ("LARGE_DOWN_PAYMENT", "Down payment well above the usual share", "Uang muka jauh di atas porsi biasanya", "approve"),
    ("INCOME_VERIFIED", "Additional income verified", "Penghasilan tambahan terverifikasi", "approve"),
    ("GOOD_HISTORY", "Good repayment history with us", "Riwayat pembayaran baik di perusahaan kami", "approve"),
    ("GUARANTOR", "Guarantor or co-borrower added", "Ada penjamin atau peminjam bersama", "approve"),
    ("STABLE_EMPLOYMENT", "Stable employment confirmed", "Pekerjaan tetap terkonfirmasi", "approve"),
    (
        "AFFORDABILITY",
        "Instalment not affordable on verified income",
        "Angsuran tidak terjangkau dari penghasilan terverifikasi",
        "decline",
    ),
    ("INCOME_NOT_VERIFIED", "Income could not be verified", "Penghasilan tidak dapat diverifikasi", "decline"),
    ("ADVERSE_BUREAU", "Adverse credit bureau record (SLIK OJK)", "Catatan buruk di SLIK OJK", "decline"),
    (
        "INCONSISTENT_DOCS",
        "Inconsistent documents or suspected fraud",
        "Dokumen tidak konsisten atau dugaan penipuan",
        "decline",
    ),
    ("NEEDS_SENIOR", "Needs a senior credit officer's view", "Perlu pendapat pejabat kredit senior", "decline"),
    ("OTHER", "Other (explained in the note)", "Lainnya (dijelaskan di catatan)", "any"),
]


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("reviews", "ReasonCode")
    for order, (code, english, indonesian, applies_to) in enumerate(REASON_CODES, start=1):
        ReasonCode.objects.get_or_create(
            code=code,
            defaults={"label_en": english, "label_id": indonesian, "applies_to": applies_to, "sort_order": order * 10},
        )


def unseed(apps, schema_editor):
    ReasonCode = apps.get_model("reviews", "ReasonCode")
    ReasonCode.objects.filter(code__in=[row[0] for row in REASON_CODES], decisions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_review_desk"),
        ("scoring", "0007_job_field_names"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
