from django.db import migrations


def load(apps, schema_editor):
    """The older frameworks and the crosswalks, each link made before crosswalks had names joining its own: the
    JEE 3 – SPAR 2 links theirs, links an administrator made between two other frameworks a crosswalk of the two."""
    from planning.reference import reference_load

    Framework = apps.get_model("planning", "Framework")
    Crosswalk = apps.get_model("planning", "Crosswalk")
    CrosswalkLink = apps.get_model("planning", "CrosswalkLink")
    reference_load(
        Framework=Framework,
        TechnicalArea=apps.get_model("planning", "TechnicalArea"),
        Indicator=apps.get_model("planning", "Indicator"),
        CrosswalkLink=CrosswalkLink,
        update=False,
    )
    pairs = set(
        CrosswalkLink.objects.filter(crosswalk__isnull=True).values_list("source__framework", "target__framework")
    )
    for source_id, target_id in pairs:
        source, target = Framework.objects.get(pk=source_id), Framework.objects.get(pk=target_id)
        if source_id == target_id:
            crosswalk = None  # a link within one framework carries nothing: dropped below
        else:
            crosswalk, _ = Crosswalk.objects.get_or_create(
                source_framework=source,
                target_framework=target,
                defaults={"name": f"{source.code} – {target.code}", "approximate": True},
            )
        links = CrosswalkLink.objects.filter(crosswalk__isnull=True, source__framework=source, target__framework=target)
        if crosswalk is None:
            links.delete()
        else:
            links.update(crosswalk=crosswalk)


class Migration(migrations.Migration):
    dependencies = [("planning", "0016_older_frameworks")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
