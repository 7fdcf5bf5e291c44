"""Officers' camera search (/staff/police/): who may search, what a search needs, what it finds
and in which order, what it shows (never an owner's name, address or contact details), the
server-drawn map, the CSV export, and the audit row every search writes.

Registrations are made and approved through the camera services, as owners and moderators do.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
import xml.etree.ElementTree as ET

import pytest

from webapp.cameras import services as cameras
from webapp.cameras.search import EARTH_RADIUS_M
from webapp.config import ConfigError, Settings
from webapp.extensions import db
from webapp.models import AuditEvent, CameraRegistration, Role, User
from webapp.police import services as police
from webapp.police.export import safe_cell
from webapp.police.map import scale_length_m

from ..support.database import rows

SEARCH = "/staff/police/"
EXPORT = "/staff/police/search.csv"
INCIDENT = (41.8781, -87.6298)
CASE = "JD-123456"
REASON = "Burglary reported at 02:10"
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180
SVG = "{http://www.w3.org/2000/svg}"

CITY_HALL = "121 N LaSalle St, Chicago, IL 60602"
CITY_HALL_AT = (41.8835516, -87.6322346)
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def app_settings() -> dict:
    """Settings for the app; a test overrides them with ``parametrize("app_settings", ...)``."""
    return {}


@pytest.fixture
def app(make_app, app_settings, request, monkeypatch):
    """The app, with the fake Nominatim as its geocoder when the test asks for
    ``fake_nominatim`` (otherwise the default manual geocoder, which finds nothing)."""
    settings = dict(app_settings)
    if "fake_nominatim" in request.fixturenames:
        # geopy goes through the environment's proxy, which cannot reach the fake.
        for name in PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.upper(), raising=False)
        fake = request.getfixturevalue("fake_nominatim")
        settings.update(GEOCODER="nominatim", GEOCODER_URL=fake.url, GEOCODER_TIMEOUT=2.0)
    return make_app(**settings)


@pytest.fixture
def officer(sign_in_as):
    return sign_in_as(Role.OFFICER)


def near(north_m: float = 0.0, east_m: float = 0.0, origin=INCIDENT) -> tuple[float, float]:
    """The point ``north_m`` metres north and ``east_m`` metres east of ``origin``."""
    lat = origin[0] + north_m / METRES_PER_DEGREE
    lon = origin[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(origin[0])))
    return lat, lon


HOME = {"street": "1 N State St", "city": "Chicago", "state": "IL", "zip_code": "60602",
        "contact_methods": "sms"}  # fmt: skip
BUSINESS = {**HOME, "business_name": "Corner Store", "business_type": "retail",
            "contact_name": "Pat Doe", "contact_phone": "+13125550199"}  # fmt: skip


@pytest.fixture
def add_camera(app, make_user):
    """``add_camera(near(north_m=100), kind=..., state=...)`` registers cameras there through
    the camera services and returns the registration's id. ``state``: ``approved`` (by a
    moderator), ``paused`` (approved, then the owner paused requests) or ``pending`` (waiting,
    with coordinates as a geocoder would have found them)."""
    moderator = make_user(Role.MODERATOR)
    owner = make_user()  # one owner of them all (an account may register several places)

    def build(where, *, kind="home", state="approved", views="street", cameras_=2, days=14,
              **details) -> int:  # fmt: skip
        with app.app_context():
            user = db.session.get(User, owner.id)
            data = {**(BUSINESS if kind == "business" else HOME), **details}
            system = {"camera_count": cameras_, "views": views, "recording": "continuous",
                      "retention_days": days, "can_export": True}  # fmt: skip
            if kind == "business":
                system["placement"] = "exterior"
            registration = cameras.register(user, kind, data, system, willing=True)
            if state == "pending":
                registration.latitude, registration.longitude = where
                db.session.commit()
            else:
                cameras.moderate(db.session.get(User, moderator.id), registration.id, "approve",
                                 latitude=where[0], longitude=where[1])  # fmt: skip
            if state == "paused":
                cameras.set_willing(user, False, registration_id=registration.id)
                db.session.commit()
            return registration.id

    return build


def search(client, path=SEARCH, **params):
    """The search form sent with the incident's coordinates, a radius, a case and a reason;
    ``params`` override any of them (``None`` leaves one out)."""
    query = {"address": "", "latitude": str(INCIDENT[0]), "longitude": str(INCIDENT[1]),
             "radius": "500", "case_number": CASE, "reason": REASON, **params}  # fmt: skip
    return client.get(path, query_string={k: v for k, v in query.items() if v is not None})


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def found_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="registration" value="(\d+)"', page)]


def svg_of(page: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", page, re.DOTALL)
    assert match, "no map on the page"
    return ET.fromstring(match.group(0))  # noqa: S314 (our own page)


def markers(svg: ET.Element) -> list[tuple[str, float, float]]:
    """(label, x, y) of each numbered marker, in the order drawn."""
    found = []
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") == "map-marker":
            circle, label = group.find(f"{SVG}circle"), group.find(f"{SVG}text")
            found.append((label.text, float(circle.get("cx")), float(circle.get("cy"))))
    return found


def audit_rows(app, action: str = police.SEARCH) -> list[AuditEvent]:
    return rows(app, AuditEvent, AuditEvent.action == action)


# --- who may search ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SEARCH, EXPORT])
@pytest.mark.parametrize("role", [r for r in Role if r is not Role.OFFICER])
def test_only_officers_may_search(sign_in_as, app, role, path):
    client, _ = sign_in_as(role)
    assert search(client, path).status_code == 403
    assert audit_rows(app) == [] and audit_rows(app, police.EXPORT) == []


@pytest.mark.parametrize("path", [SEARCH, EXPORT])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = search(client, path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")


def test_the_bare_page_shows_the_form_and_searches_nothing(app, officer):
    client, _ = officer
    page = page_of(client.get(SEARCH))
    assert "Find cameras near an incident" in page
    assert 'method="get"' in page
    for name in ("address", "latitude", "longitude", "radius", "case_number", "reason"):
        assert f'name="{name}"' in page
    assert "There is a problem" not in page and "<svg" not in page
    assert audit_rows(app) == []


# --- what a search needs ----------------------------------------------------------------------


def test_every_field_is_required_with_a_clear_error(app, officer):
    client, _ = officer
    page = page_of(search(client, latitude="", longitude="", radius="", case_number="",
                          reason=""))  # fmt: skip
    assert "<title>Error: Find cameras" in page
    assert "There is a problem" in page
    for message in (
        "Enter the address of the incident, or its latitude and longitude.",
        "Enter the search radius in metres, like 300.",
        "Enter the case number.",
        "Enter the reason for this search.",
    ):
        assert message in page
    assert 'aria-invalid="true"' in page
    assert found_ids(page) == [] and "<svg" not in page
    assert audit_rows(app) == []


def test_blank_spaces_do_not_count_as_an_answer(officer):
    client, _ = officer
    page = page_of(search(client, case_number="   ", reason="  "))
    assert "Enter the case number." in page and "Enter the reason for this search." in page


def test_nothing_typed_is_lost(officer):
    client, _ = officer
    typed = {"address": "55 W Randolph St", "latitude": "41.9", "longitude": "",
             "radius": "five hundred", "case_number": "JD-99", "reason": "Stolen car"}  # fmt: skip
    page = page_of(search(client, **typed))
    assert "Enter the longitude too, or leave both coordinates empty." in page
    assert "Enter the radius as a whole number of metres, like 300." in page
    for name, value in typed.items():
        if value:
            assert re.search(f'name="{name}"[^>]*value="{value}"', page), name


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"latitude": "91"}, "Enter a latitude from -90 to 90."),
        ({"longitude": "west"}, "Enter a longitude from -180 to 180."),
        ({"latitude": ""}, "Enter the latitude too, or leave both coordinates empty."),
        ({"radius": "5"}, "Enter a radius from 10 to 2,000 metres."),
        ({"case_number": "X" * 41}, "This answer must be 40 characters or fewer."),
        ({"case_number": "=1+1"}, "Enter the case number with at most 40 letters, digits,"),
        ({"reason": "x" * 151}, "This answer must be 150 characters or fewer."),
    ],
)
def test_bad_answers_get_a_clear_error(app, officer, params, message):
    client, _ = officer
    page = page_of(search(client, **params))
    assert message in page
    assert audit_rows(app) == []


def test_the_radius_is_limited_to_2_km_by_default(app, officer, add_camera):
    add_camera(near(north_m=100))
    client, _ = officer

    page = page_of(search(client, radius="2001"))
    assert "Enter a radius from 10 to 2,000 metres." in page
    assert found_ids(page) == [] and audit_rows(app) == []

    assert len(found_ids(page_of(search(client, radius="2,000")))) == 1  # as people type it


@pytest.mark.parametrize("app_settings", [{"POLICE_MAX_RADIUS_M": 5000}])
def test_the_largest_radius_is_a_setting(app, officer, add_camera):
    far = add_camera(near(north_m=4000))
    client, _ = officer
    assert found_ids(page_of(search(client, radius="4500"))) == [far]
    assert "Enter a radius from 10 to 5,000 metres." in page_of(search(client, radius="5001"))


def test_the_service_enforces_the_radius_limit_too(app, make_user):
    officer = make_user(Role.OFFICER)
    query = police.SearchQuery(CASE, REASON, 2001, coordinates=INCIDENT)
    with app.test_request_context(), pytest.raises(police.RadiusOutOfRange):
        police.search(db.session.get(User, officer.id), query)
    assert audit_rows(app) == []


@pytest.mark.parametrize("value", ["0", "5", "20001", "lots"])
def test_the_radius_setting_is_checked_at_start_up(value):
    with pytest.raises(ConfigError, match="POLICE_MAX_RADIUS_M"):
        Settings.build({"APP_ENV": "testing", "POLICE_MAX_RADIUS_M": value})
    assert Settings.build({"APP_ENV": "testing"}).POLICE_MAX_RADIUS_M == 2000


# --- the address or the coordinates -----------------------------------------------------------


def test_without_a_geocoder_an_address_asks_for_coordinates(app, officer):
    client, user = officer
    page = page_of(search(client, address=CITY_HALL, latitude="", longitude=""))
    assert "We could not find this address. Enter the latitude and longitude" in page
    assert f'value="{CITY_HALL}"' in page
    # The attempt is audited, without the address.
    (row,) = audit_rows(app)
    assert (row.actor_id, row.outcome) == (user.id, "not_found")
    assert CASE in row.reason and REASON in row.reason
    assert "LaSalle" not in row.reason


def test_coordinates_are_used_instead_of_the_address(app, officer, add_camera):
    camera = add_camera(near(north_m=50))
    client, _ = officer
    page = page_of(search(client, address=CITY_HALL))
    assert found_ids(page) == [camera]
    assert "The address was found at" not in page


def test_an_address_is_located_by_the_geocoder(app, officer, add_camera, fake_nominatim):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)
    nearby = add_camera(near(north_m=120, origin=CITY_HALL_AT))
    add_camera(near(north_m=-800, origin=CITY_HALL_AT))  # outside a 500 m search
    client, user = officer

    page = page_of(search(client, address=CITY_HALL, latitude="", longitude=""))

    assert found_ids(page) == [nearby]
    assert "The address was found at 41.88355, -87.63223: check it is the right place." in page
    assert fake_nominatim.searches[-1].params["q"] == CITY_HALL
    (row,) = audit_rows(app)
    assert row.actor_id == user.id and row.outcome == "success"
    assert "500 m at 41.884,-87.632" in row.reason
    # The footage request starts from where the geocoder put the incident.
    assert f'name="latitude" value="{CITY_HALL_AT[0]}"' in page


def test_an_address_the_geocoder_does_not_know_asks_for_coordinates(officer, fake_nominatim):
    client, _ = officer
    page = page_of(search(client, address="1 Nowhere Ln, Chicago", latitude="", longitude=""))
    assert "We could not find this address." in page
    assert len(fake_nominatim.searches) == 1


# --- what it finds ----------------------------------------------------------------------------


def test_finds_approved_willing_registrations_nearest_first(app, officer, add_camera):
    second = add_camera(near(north_m=300))
    first = add_camera(near(east_m=-120), kind="business")
    third = add_camera(near(north_m=-350, east_m=300))
    add_camera(near(north_m=40), state="pending")
    add_camera(near(east_m=60), state="paused")
    add_camera(near(north_m=700))  # outside the radius
    client, _ = officer

    page = page_of(search(client, radius="500"))

    assert found_ids(page) == [first, second, third]
    assert "3 registrations within 500 m of the incident, nearest first." in page


def test_a_result_says_what_the_cameras_see_how_many_and_for_how_long(officer, add_camera):
    add_camera(near(north_m=200), kind="business", views="front_door,parking", cameras_=6,
               days=30)  # fmt: skip
    client, _ = officer
    page = page_of(search(client))
    row = re.search(r'name="registration".*?</tr>', page, re.DOTALL).group(0)
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
    assert cells == ["1", "Business", "Front door or entrance, Parking lot", "6", "30 days",
                     "200 m"]  # fmt: skip


def test_more_results_than_shown_are_announced(app, officer, add_camera, monkeypatch):
    monkeypatch.setattr(police, "RESULT_LIMIT", 2)
    ids = [add_camera(near(north_m=100 * n)) for n in (1, 2, 3)]
    client, _ = officer
    page = page_of(search(client))
    assert found_ids(page) == ids[:2]
    assert "Only the 2 nearest are shown. Make the radius smaller to see the others." in page


def test_nothing_found_says_so(officer):
    client, _ = officer
    page = page_of(search(client, radius="300"))
    assert "No owner willing to be asked has registered cameras within 300 m." in page
    assert "Download these results" not in page and "<svg" in page


def test_owners_names_addresses_and_contact_details_are_never_shown(app, officer, add_camera,
                                                                    make_user):  # fmt: skip
    secrets = {"street": "4321 W Hidden Ave", "unit": "Unit 9B", "zip_code": "60624",
               "business_name": "Kowalski Hardware", "contact_name": "Anna Kowalska",
               "contact_phone": "+13125550198", "email": "anna@kowalski.example",
               "hours": "Mon-Sat 7-19"}  # fmt: skip
    camera = add_camera(near(north_m=90), kind="business", **secrets)
    with app.app_context():
        owner = db.session.get(User, db.session.get(CameraRegistration, camera).user_id)
        owner_phone = owner.phone
    client, _ = officer

    page = page_of(search(client))
    export = search(client, EXPORT).get_data(as_text=True)

    assert found_ids(page) == [camera]
    for text in (*secrets.values(), "4321", "555-0198", "5550198", owner_phone,
                 owner_phone[2:]):  # fmt: skip
        assert text not in page, text
        assert text not in export, text


# --- the map ----------------------------------------------------------------------------------


def test_the_map_shows_the_incident_the_radius_and_numbered_markers(officer, add_camera):
    add_camera(near(north_m=250))
    add_camera(near(east_m=-400))
    add_camera(near(north_m=-100, east_m=100))
    client, _ = officer

    page = page_of(search(client, radius="500"))
    svg = svg_of(page)

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "map-title map-desc"
    assert svg.find(f"{SVG}title").text == "Map of the camera registrations found"
    desc = svg.find(f"{SVG}desc").text
    assert "the search radius, 500 m" in desc and "The scale bar is 200 m long." in desc
    (radius,) = [c for c in svg.iter(f"{SVG}circle") if c.get("class") == "map-radius"]
    assert (radius.get("cx"), radius.get("cy"), radius.get("r")) == ("200.0", "200.0", "180")
    assert [g for g in svg.iter(f"{SVG}g") if g.get("class") == "map-incident"]
    drawn = {label: (x, y) for label, x, y in markers(svg)}
    assert sorted(drawn) == ["1", "2", "3"] == [str(n) for n in range(1, len(found_ids(page)) + 1)]
    # North is up, east is right; 500 m is 180 units: 250 m north is 90 units above the centre.
    # Places are rounded to 4 decimals (up to 6 m, 2.2 units here).
    assert drawn["2"] == pytest.approx((200, 110), abs=2.5)
    assert drawn["3"] == pytest.approx((56, 200), abs=2.5)
    assert drawn["1"] == pytest.approx((236, 236), abs=2.5)
    (scale,) = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "map-scale"]
    assert scale.find(f"{SVG}text").text == "200 m"


@pytest.mark.parametrize(
    ("radius", "label"), [("2000", "1 km"), ("1000", "500 m"), ("300", "100 m"), ("10", "5 m")]
)
def test_the_scale_bar_has_a_round_length(officer, radius, label):
    client, _ = officer
    svg = svg_of(page_of(search(client, radius=radius)))
    (scale,) = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "map-scale"]
    assert scale.find(f"{SVG}text").text == label


def test_scale_lengths_fit_half_the_radius():
    assert [scale_length_m(r) for r in (10, 99, 100, 450, 2000, 20_000)] == [
        5, 20, 50, 200, 1000, 10_000,
    ]  # fmt: skip


def test_the_map_needs_no_styles_scripts_or_network(officer, add_camera):
    add_camera(near(north_m=100))
    client, _ = officer
    response = search(client)
    page = response.get_data(as_text=True)
    svg = re.search(r"<svg\b.*?</svg>", page, re.DOTALL).group(0)
    assert "style=" not in page and "<style" not in page and "<script" not in page
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


# --- asking the owners for footage ------------------------------------------------------------


def test_the_results_lead_to_a_footage_request_for_the_chosen_owners(officer, add_camera):
    first = add_camera(near(north_m=100))
    second = add_camera(near(north_m=200))
    client, _ = officer
    page = page_of(search(client))
    form = re.search(r'<form method="post" action="(/staff/police/[^"]*)".*?</form>', page,
                     re.DOTALL)  # fmt: skip
    assert form and form.group(1) == "/staff/police/requests/new"
    body = form.group(0)
    assert re.search(r'name="csrf_token" value="[^"]+"', body)
    assert f'name="case_number" value="{CASE}"' in body
    assert f'name="latitude" value="{INCIDENT[0]}"' in body
    assert f'name="longitude" value="{INCIDENT[1]}"' in body
    assert re.findall(r'type="checkbox" name="registration" value="(\d+)"', body) == [
        str(first), str(second),
    ]  # fmt: skip
    assert "Ask the chosen owners for footage" in body


# --- the audit log ----------------------------------------------------------------------------


def test_every_search_is_audited_with_the_officer_and_the_case(app, officer, add_camera):
    add_camera(near(north_m=100))
    client, user = officer
    search(client)
    search(client, radius="1000", case_number="JD-777", reason="Hit and run")

    first, second = audit_rows(app)
    assert (first.actor_id, first.actor_role, first.outcome) == (user.id, "officer", "success")
    assert first.reason == f"case {CASE}; 500 m at 41.878,-87.630; {REASON}"
    assert second.reason == "case JD-777; 1000 m at 41.878,-87.630; Hit and run"
    assert audit_rows(app, police.EXPORT) == []


# --- the CSV export ---------------------------------------------------------------------------


def test_the_csv_export_has_the_results_in_order(app, officer, add_camera):
    home = add_camera(near(north_m=333, east_m=20), views="front_door,street", cameras_=3,
                      days=7)  # fmt: skip
    business = add_camera(near(east_m=-121), kind="business", views="parking", cameras_=8,
                          days=60)  # fmt: skip
    add_camera(near(north_m=50), state="paused")
    client, user = officer

    response = search(client, EXPORT)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="cameras-JD-123456.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    home_at, business_at = near(north_m=333, east_m=20), near(east_m=-121)
    assert rows == [
        ["rank", "distance_m", "kind", "camera_count", "views", "retention_days", "latitude",
         "longitude"],
        ["1", "120", "business", "8", "parking", "60", f"{business_at[0]:.3f}",
         f"{business_at[1]:.3f}"],
        ["2", "330", "home", "3", "front_door;street", "7", f"{home_at[0]:.3f}",
         f"{home_at[1]:.3f}"],
    ]  # fmt: skip
    assert {home, business}  # both registered
    (row,) = audit_rows(app, police.EXPORT)
    assert (row.actor_id, row.outcome) == (user.id, "success")
    assert row.reason.startswith(f"case {CASE};") and REASON in row.reason
    assert audit_rows(app) == []  # the export is its own entry, not a search


def test_the_results_page_links_to_the_csv_with_the_same_search(officer, add_camera):
    add_camera(near(north_m=100))
    client, _ = officer
    page = page_of(search(client, radius="750"))
    link = re.search(r'<a href="(/staff/police/search\.csv\?[^"]+)"', page).group(1)
    assert "radius=750" in link and f"case_number={CASE}" in link
    assert client.get(link).status_code == 200


def test_an_export_with_a_bad_search_goes_back_to_the_form(app, officer):
    client, _ = officer
    response = search(client, EXPORT, case_number="")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/police/?")
    assert "Enter the case number." in page_of(client.get(response.headers["Location"]))
    assert audit_rows(app, police.EXPORT) == []


def test_the_csv_is_safe_from_formula_injection(app, officer, add_camera):
    camera = add_camera(near(north_m=100))
    with app.app_context():  # as if a value had reached the table past the forms
        db.session.get(CameraRegistration, camera).views = '=HYPERLINK("http://evil.example")'
        db.session.commit()
    client, _ = officer
    rows = list(csv.reader(io.StringIO(search(client, EXPORT).get_data(as_text=True))))
    assert rows[1][4] == """'=HYPERLINK("http://evil.example")"""
    assert rows[1][7].startswith("-87.") and float(rows[1][7]) < 0  # numbers stay numbers


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("street", "street"), ("-87.630", "-87.630"),
        (-87.63, -87.63), (7, 7),
    ],
)  # fmt: skip
def test_cells_a_spreadsheet_would_run_are_quoted(value, written):
    assert safe_cell(value) == written
