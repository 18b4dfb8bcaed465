from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("naphs", "0003_costing_job_kinds"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
