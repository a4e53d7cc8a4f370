"""Responsible units (责任单位), the component inventory (部件普查) and routing (派遣建议).

- ``models``: the ``units`` and ``components`` tables;
- ``service``: unit actions and reads (``access_unit``, ``units_of_account``);
- ``inventory``: the all-or-nothing inventory import, listing, fetching;
- ``routing``: ``suggest`` → one ``Suggestion`` with its reason, and the pure ``decide``;
- ``validation`` and ``ids``: the rules, as pure functions; ``demo``: the demo seed.
"""

from citylead.units.inventory import do_import_components, get_component, list_components
from citylead.units.models import Component, ComponentState, Edition, Unit, UnitKind
from citylead.units.routing import Suggestion, suggest
from citylead.units.service import (
    access_unit,
    do_create_unit,
    do_deactivate_unit,
    do_update_unit,
    list_units,
    units_of_account,
)

__all__ = [
    "Component",
    "ComponentState",
    "Edition",
    "Suggestion",
    "Unit",
    "UnitKind",
    "access_unit",
    "do_create_unit",
    "do_deactivate_unit",
    "do_import_components",
    "do_update_unit",
    "get_component",
    "list_components",
    "list_units",
    "suggest",
    "units_of_account",
]
