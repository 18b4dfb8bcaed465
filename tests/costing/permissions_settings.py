"""The costing settings and catalogue routes in the permission walk (tests/test_permissions.py): every member
reads the plan's currency, rates and catalogue; only the secretariat changes them (a price change included);
anyone else gets 403, non-members 404, and a rate or item of another plan is 404 even paired with one's own plan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from costing.models import CatalogueItem, ExchangeRate
from costing.services import plan_costing_get


def _statuses() -> tuple:
    # Read from the walk's module while it imports this one (it is already in sys.modules by then).
    from tests import test_permissions as tp

    return tp.S200, tp.S201, tp.S204, tp.S302, tp.LOGIN


S200, S201, S204, S302, LOGIN = _statuses()
READ = "GET HEAD OPTIONS"

# fmt: off
TABLE: dict[str, dict[str, tuple[int, ...]]] = {
    #                                    SL    SM    TL    FP    RV    VW    out   anon
    "costing_settings": {
        "GET HEAD":                     (200,  200,  200,  200,  200,  200,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "exchange_rate_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # the editor
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "exchange_rate_delete": {"POST":    (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "catalogue": {"GET HEAD":           (200,  200,  200,  200,  200,  200,  404,  LOGIN)},
    "catalogue_item_new": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "catalogue_item_edit": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),
    },
    "catalogue_item_price": {
        "GET HEAD":                     (200,  200,  403,  403,  403,  403,  404,  LOGIN),   # form and preview
        "POST":                         (S302, S302, 403,  403,  403,  403,  404,  LOGIN),   # confirm
    },
    "catalogue_item_delete": {"POST":   (S302, S302, 403,  403,  403,  403,  404,  LOGIN)},
    "plan-costing": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PATCH":                        (S200, S200, 403,  403,  403,  403,  404,  401),
    },
    "exchange-rate-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "exchange-rate-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "catalogue-item-list": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S201, S201, 403,  403,  403,  403,  404,  401),
    },
    "catalogue-item-detail": {
        READ:                           (200,  200,  200,  200,  200,  200,  404,  401),
        "PUT PATCH":                    (S200, S200, 403,  403,  403,  403,  404,  401),
        "DELETE":                       (S204, S204, 403,  403,  403,  403,  404,  401),
    },
    "catalogue-item-reprice": {
        "OPTIONS":                      (200,  200,  200,  200,  200,  200,  404,  401),
        "POST":                         (S200, S200, 403,  403,  403,  403,  404,  401),
    },
}
# fmt: on


def _rate(scene, route_name: str, persona: str, foreign: str, objects: dict) -> ExchangeRate:
    """A pound rate for 2027 that nothing uses, of the persona's plan or of the other country's plan."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    plan_costing_get(plan)
    return ExchangeRate.objects.create(plan=plan, currency="GBP", year=2027, rate=Decimal("1.25"))


def _item(scene, route_name: str, persona: str, foreign: str, objects: dict) -> CatalogueItem:
    """An item kept by the persona's plan (or by the other country's plan) that no cost line uses."""
    plan = scene.elsewhere_plan if foreign else scene.plan
    return CatalogueItem.objects.create(
        plan=plan,
        name=f"Meeting room {scene.number()}",
        category="meetings",
        unit="day",
        unit_cost=Decimal("100.00"),
        currency="USD",
        price_year=2026,
    )


FILLERS = {"rate_id": _rate, "catalogue_item_id": _item}
P1_ROUTES: set[str] = set()


def _settings_version(s) -> int:
    return plan_costing_get(s.plan).version


def _item_form(s, o: dict) -> dict[str, Any]:
    return {
        "name": f"Venue hire {s.number()}",
        "category": "meetings",
        "unit": "day",
        "unit_cost": "250.00",
        "currency": "USD",
        "price_year": 2026,
        "source": "Ministry of Finance price list",
        "notes": "",
        "owner": "plan",
    }


def _item_edit(s, o: dict) -> dict[str, Any]:
    return {
        "name": f"Renamed room {s.number()}",
        "category": "meetings",
        "unit": "day",
        "source": "Quote",
        "notes": "Half board",
        "version": o["catalogue_item"].version,
    }


PAYLOADS = {
    ("costing_settings", "POST"): lambda s, p, o: {
        "form": "settings",
        "currency": "USD",
        "price_year": 2027,
        "version": _settings_version(s),
    },
    ("exchange_rate_edit", "POST"): lambda s, p, o: {
        "rate": "1.27",
        "source": "Central bank",
        "version": o["rate"].version,
    },
    ("catalogue_item_new", "POST"): lambda s, p, o: _item_form(s, o),
    ("catalogue_item_edit", "POST"): lambda s, p, o: _item_edit(s, o),
    ("catalogue_item_price", "POST"): lambda s, p, o: {
        "unit_cost": "120.00",
        "currency": "USD",
        "price_year": 2026,
        "version": o["catalogue_item"].version,
    },
    ("plan-costing", "PATCH"): lambda s, p, o: {"price_year": 2027, "version": _settings_version(s)},
    ("exchange-rate-list", "POST"): lambda s, p, o: {
        "currency": "EUR",
        "year": 2026,
        "rate": "1.08",
        "source": "Central bank",
    },
    ("exchange-rate-detail", "PUT"): lambda s, p, o: {
        "rate": "1.27",
        "source": "Central bank",
        "version": o["rate"].version,
    },
    ("exchange-rate-detail", "PATCH"): lambda s, p, o: {"rate": "1.3", "version": o["rate"].version},
    ("catalogue-item-list", "POST"): lambda s, p, o: {
        key: value for key, value in _item_form(s, o).items() if key != "owner"
    },
    # The price is not sent: it changes only through reprice, and a change that names it is refused.
    ("catalogue-item-detail", "PUT"): lambda s, p, o: dict(_item_edit(s, o)),
    ("catalogue-item-detail", "PATCH"): lambda s, p, o: {
        "name": f"Renamed room {s.number()}",
        "version": o["catalogue_item"].version,
    },
    ("catalogue-item-reprice", "POST"): lambda s, p, o: {
        "unit_cost": "125.00",
        "version": o["catalogue_item"].version,
        "confirm": True,
    },
}
