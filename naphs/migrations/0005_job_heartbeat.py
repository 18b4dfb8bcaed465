from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("naphs", "0004_job_request_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
