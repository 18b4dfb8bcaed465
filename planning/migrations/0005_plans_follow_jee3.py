from django.db import migrations


def follow_jee3(apps, schema_editor):
    """Plans opened before plans had a framework follow JEE 3rd edition, the product's default."""
    Plan = apps.get_model("planning", "Plan")
    Framework = apps.get_model("planning", "Framework")
    jee3 = Framework.objects.filter(code="JEE3").first()
    if jee3 is not None:
        Plan.objects.filter(framework__isnull=True).update(framework=jee3)


class Migration(migrations.Migration):
    dependencies = [("planning", "0004_activities_context_priorities")]

    operations = [migrations.RunPython(follow_jee3, migrations.RunPython.noop)]
