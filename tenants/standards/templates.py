"""The province's onboarding templates (分类指导): how a new city or county-level division is set up.

Templates are a standards kind (``template/{name}/…``): the province publishes these as version 1 of
its template layer, a city may change them for its own divisions (add a unit, lock an override), and
a division is onboarded with its *effective* template, with provenance, like any other standard.

The three division variants follow the source articles: a 市辖区 on the city's main platform (city
supervision, district command), a 县级市 with its own supervision and command backed by the city,
and a 县 covering only its built-up area (县城) with a smaller unit set.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEMPLATE_NAMES", "template_layer"]

OPERATING_ROLES = ["intake", "shift_lead", "dispatcher", "department", "supervisor"]

_SECTOR: dict[str, dict[str, Any]] = {
    "CGZF": {"name": "{county}城管执法大队", "sector": "城管执法", "classes": ["matter:08", "matter:09"]},
    "YLLH": {
        "name": "{county}园林绿化管理所",
        "sector": "园林绿化",
        "classes": ["component:04", "matter:04"],
    },
    "SZSS": {
        "name": "{county}市政设施管理处",
        "sector": "市政",
        "classes": ["component:01", "component:02", "matter:01", "matter:02"],
    },
    "HJWS": {
        "name": "{county}环境卫生管理所",
        "sector": "环卫",
        "classes": ["component:03", "matter:03", "matter:06"],
    },
    "SCJG": {"name": "{county}市场监督管理局", "sector": "市场监管", "classes": ["matter:07", "matter:10"]},
    "PSGL": {
        "name": "{county}排水管理处",
        "sector": "排水",
        "classes": ["component:01002", "component:01003", "matter:01002", "matter:01003"],
    },
    "LDS": {
        "name": "{county}供电公司路灯所",
        "sector": "路灯",
        "classes": ["component:01006", "component:01037", "matter:01037"],
    },
}

# name → (label, levels, supervision, command, scope, roles, units, territorial, overrides)
_TEMPLATES: dict[str, dict[str, Any]] = {
    "district": {
        "label": "市辖区（市级监督、区级指挥）",
        "levels": ["municipal_district"],
        "supervision": "city",
        "command": "own",
        "scope": "whole",
        "roles": ["county_admin", "shift_lead", "dispatcher", "department"],
        "units": ["CGZF", "YLLH", "SZSS", "HJWS"],
        "territorial": True,
        "override": {},
    },
    "county-city": {
        "label": "县级市（自主监督指挥、市级兜底）",
        "levels": ["county_city"],
        "supervision": "own",
        "command": "own_with_city_backing",
        "scope": "whole",
        "roles": ["county_admin", *OPERATING_ROLES],
        "units": ["CGZF", "YLLH", "SZSS", "HJWS", "SCJG"],
        "territorial": True,
        "override": {},
    },
    "county": {
        "label": "县城（建成区、两级监督一级指挥）",
        "levels": ["county"],
        "supervision": "two_level",
        "command": "own",
        "scope": "built_up",
        "roles": ["county_admin", *OPERATING_ROLES],
        "units": ["CGZF", "HJWS"],
        "territorial": True,
        # a county town is sparser: reports 100 m apart are still the same problem
        "override": {"manual/default/duplicate/radius_m": 100},
    },
    "city": {
        "label": "地级市（市级监督指挥中心）",
        "levels": ["prefecture_city"],
        "supervision": "own",
        "command": "own",
        "scope": "whole",
        "roles": ["city_admin", *OPERATING_ROLES],
        "units": ["PSGL", "LDS"],
        "territorial": False,
        "override": {},
    },
}
TEMPLATE_NAMES = tuple(_TEMPLATES)


def template_layer() -> dict[str, Any]:
    """The province's template layer: every template as ``template/{name}/…`` entries."""
    values: dict[str, Any] = {}
    for name, t in _TEMPLATES.items():
        base = f"template/{name}"
        for key in ("label", "levels", "supervision", "command", "scope", "roles", "territorial"):
            values[f"{base}/{key}"] = t[key]
        for code in t["units"]:
            values[f"{base}/unit/{code}"] = {"kind": "sector", **_SECTOR[code]}
        for path, value in t["override"].items():
            values[f"{base}/override/{path}"] = value
    return values
