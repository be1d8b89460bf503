from django.db import migrations


def create_auditor_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="Auditor")


def remove_auditor_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Auditor").delete()


class Migration(migrations.Migration):
    dependencies = [("nplsite", "0002_api_token_proxy")]
    operations = [migrations.RunPython(create_auditor_role, remove_auditor_role)]
