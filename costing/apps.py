from django.apps import AppConfig


class CostingConfig(AppConfig):
    name = "costing"
    verbose_name = "Costing and resource mapping"

    def ready(self) -> None:
        from costing import operational  # noqa: F401 (connects its receiver of planning's signals)
