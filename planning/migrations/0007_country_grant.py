"""Country grants replace the global permission "planning | plan | Can add plan" as what lets a person open
national plans. Whoever held that permission keeps opening national plans of the countries where they already
lead one (a grant for each); it no longer opens plans anywhere else."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def grants_from_the_add_plan_permission(apps, schema_editor) -> None:
    Permission = apps.get_model("auth", "Permission")
    PlanMembership = apps.get_model("stakeholders", "PlanMembership")
    CountryGrant = apps.get_model("planning", "CountryGrant")
    permission = Permission.objects.filter(codename="add_plan", content_type__app_label="planning").first()
    if permission is None:  # a fresh database: the permissions are created after the migrations
        return
    holders = PlanMembership.objects.filter(role="secretariat_lead", plan__parent__isnull=True).filter(
        models.Q(user__user_permissions=permission) | models.Q(user__groups__permissions=permission)
    )
    pairs = set(holders.values_list("user_id", "plan__jurisdiction__country_id"))
    CountryGrant.objects.bulk_create(
        [CountryGrant(user_id=user_id, country_id=country_id) for user_id, country_id in sorted(pairs) if country_id],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('planning', '0006_activity_budget_fields'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('stakeholders', '0002_frameworks_libraries_assessments'),
    ]

    operations = [
        migrations.CreateModel(
            name='CountryGrant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('granted_at', models.DateTimeField(auto_now_add=True, verbose_name='granted at')),
                ('country', models.ForeignKey(limit_choices_to={'level': 'country'}, on_delete=django.db.models.deletion.CASCADE, related_name='grants', to='planning.jurisdiction', verbose_name='country')),
                ('granted_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='granted by')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='country_grants', to=settings.AUTH_USER_MODEL, verbose_name='person')),
            ],
            options={
                'verbose_name': 'country grant',
                'verbose_name_plural': 'country grants',
                'ordering': ['country__name', 'user__username'],
                'constraints': [models.UniqueConstraint(fields=('user', 'country'), name='country_grant_once_per_person', violation_error_message='This person already holds a grant for this country.')],
            },
        ),
        migrations.RunPython(grants_from_the_add_plan_permission, migrations.RunPython.noop),
    ]
