from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0018_activity_source_717"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="purpose",
            field=models.CharField(
                choices=[("baseline", "Baseline"), ("follow_up", "Follow-up")],
                default="baseline",
                help_text=(
                    "A baseline assessment gives the plan's starting levels; a follow-up re-assesses them during "
                    "implementation and leaves the baseline as it is."
                ),
                max_length=10,
                verbose_name="purpose",
            ),
        ),
    ]
