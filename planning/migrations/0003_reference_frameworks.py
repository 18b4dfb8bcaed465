from django.db import migrations


def load(apps, schema_editor):
    from planning.reference import reference_load

    reference_load(
        Framework=apps.get_model("planning", "Framework"),
        TechnicalArea=apps.get_model("planning", "TechnicalArea"),
        Indicator=apps.get_model("planning", "Indicator"),
        CrosswalkLink=apps.get_model("planning", "CrosswalkLink"),
    )


class Migration(migrations.Migration):
    dependencies = [("planning", "0002_frameworks_libraries_assessments")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
