"""Safety profiles filled in through the pages."""

from __future__ import annotations

from .web import submit

HOME = {
    "street": "121 N LaSalle St",
    "unit": "Apt 4B",
    "city": "Chicago",
    "state": "IL",
    "zip_code": "60602",
    "building_type": "apartment",
    "floor": "4",
    "bedrooms": "Back of the flat, left",
    "access_notes": "Gate code 4321#",
    "hazards": "Oxygen tanks in bedroom",
    "utility_shutoffs": "Basement, by the stairs",
    "notes": "",
}
MEMBER = {
    "name": "Rosa Díaz",
    "relationship_": "parent",
    "birth_year": "1941",
    "description": "Short, grey hair, glasses",
    "language": "Spanish",
    "interpreter_needed": "y",
    "communication": ["deaf", "cognitive"],
    "medical_conditions": "Type 1 diabetes",
    "medications": "Insulin",
    "allergies": "Penicillin",
    "blood_type": "O-",
    "mental_health": "",
    "disabilities": "Uses a walker",
    "equipment": "Home oxygen concentrator",
    "advance_directive": "DNR on the fridge",
    "vaccinations": "",
}


def fill_home(client, **changes):
    return submit(client, "/profile/home", {**HOME, **changes})


def add(client, section, data):
    return submit(client, f"/profile/{section}/new", data)
