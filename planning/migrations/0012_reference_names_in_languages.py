from django.db import migrations, models


def load(apps, schema_editor):
    from planning.reference import reference_names_load

    reference_names_load(
        Framework=apps.get_model("planning", "Framework"),
        TechnicalArea=apps.get_model("planning", "TechnicalArea"),
        Indicator=apps.get_model("planning", "Indicator"),
    )


def names_field():
    return models.JSONField(
        blank=True,
        default=dict,
        help_text='The name in each other language where it is known, by language code: {"fr": "…", "ar": "…"}.',
        verbose_name="names in other languages",
    )


class Migration(migrations.Migration):
    dependencies = [("planning", "0011_verbose_names")]

    operations = [
        migrations.AddField(model_name="framework", name="names", field=names_field()),
        migrations.AddField(model_name="technicalarea", name="names", field=names_field()),
        migrations.AddField(model_name="indicator", name="names", field=names_field()),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
