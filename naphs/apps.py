from django.apps import AppConfig


class NaphsConfig(AppConfig):
    name = "naphs"
    verbose_name = "NAPHS Planner"
