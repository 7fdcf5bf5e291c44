"""The geocoder, end to end: ``geocoder()`` builds the configured one and the ``nominatim``
kind asks a local fake Nominatim server through the real ``geopy`` client. Nothing of ours is
mocked. Any failure of the server must end as "not found", logged without the address."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest

from webapp.cameras.geocoding import (
    Location,
    ManualGeocoder,
    NominatimGeocoder,
    geocoder,
    one_line,
)
from webapp.config import ConfigError, Settings

CITY_HALL = one_line("121 N LaSalle St", None, "Chicago", "IL", "60602")
CITY_HALL_AT = (41.8835516, -87.6322346)
UNKNOWN = one_line("1 Nowhere Ln", "Apt 9", "Chicago", "IL", "60699")
USER_AGENT = "safety-registry-tests/1.0 (ops@registry.example.gov)"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """geopy sends every request through the environment's proxy and ignores no_proxy, so a
    proxy set where the tests run would take the fake's 127.0.0.1 requests away."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def nominatim_app(make_app, fake_nominatim):
    """Build an app whose geocoder is the fake Nominatim; settings overridable by keyword."""

    def build(**overrides):
        settings = {
            "GEOCODER": "nominatim",
            "GEOCODER_URL": fake_nominatim.url,
            "GEOCODER_USER_AGENT": USER_AGENT,
            "GEOCODER_TIMEOUT": 2.0,
            **overrides,
        }
        return make_app(**settings)

    return build


@pytest.fixture
def locate(nominatim_app) -> Callable[..., Location | None]:
    """``locate(address, **settings)``: what the app's configured geocoder finds."""

    def run(address: str, **overrides) -> Location | None:
        app = nominatim_app(**overrides)
        with app.app_context():
            found = geocoder()
            assert isinstance(found, NominatimGeocoder)
            return found.locate(address)

    return run


def test_one_line_joins_the_parts_of_an_address():
    assert CITY_HALL == "121 N LaSalle St, Chicago, IL 60602"
    assert UNKNOWN == "1 Nowhere Ln, Apt 9, Chicago, IL 60699"


def test_a_known_address_is_found_with_its_coordinates(locate, fake_nominatim):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)

    assert locate(CITY_HALL) == Location(*CITY_HALL_AT)
    # Matching is forgiving of case and spacing, as Nominatim's is.
    assert locate("121 n lasalle st,  chicago, il 60602") == Location(*CITY_HALL_AT)

    (search, _) = fake_nominatim.searches
    assert search.method == "GET"
    assert search.path == "/search"
    assert search.params["q"] == CITY_HALL
    assert search.params["format"] in ("json", "jsonv2")
    assert search.params["limit"] == "1"
    assert search.status == 200


def test_an_unknown_address_is_not_found(locate, fake_nominatim):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)

    assert locate(UNKNOWN) is None
    assert [s.params["q"] for s in fake_nominatim.searches] == [UNKNOWN]


def test_the_user_agent_and_the_country_restriction_are_sent(locate, fake_nominatim):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)

    assert locate(CITY_HALL) == Location(*CITY_HALL_AT)
    (search,) = fake_nominatim.searches
    assert search.user_agent == USER_AGENT
    assert search.params["countrycodes"] == "us"

    # The restriction is what keeps a place elsewhere from being found.
    fake_nominatim.country_code = "ca"
    assert locate(CITY_HALL) is None


def test_a_url_with_a_path_prefix_is_honoured(locate, fake_nominatim):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)
    fake_nominatim.prefix = "/nominatim"

    assert locate(CITY_HALL, GEOCODER_URL=fake_nominatim.url + "/nominatim/") == Location(
        *CITY_HALL_AT
    )
    assert [r.path for r in fake_nominatim.requests] == ["/nominatim/search"]
    # Without the prefix the server has nothing to say.
    assert locate(CITY_HALL, GEOCODER_URL=fake_nominatim.url) is None
    assert fake_nominatim.requests[-1].status == 404


def test_a_server_error_is_not_found_and_logged_without_the_address(locate, fake_nominatim, caplog):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)
    fake_nominatim.fail_next(500)
    caplog.set_level(logging.INFO)

    assert locate(CITY_HALL) is None

    assert [s.status for s in fake_nominatim.searches] == [500]  # asked once, no retry
    warnings = [r for r in caplog.records if r.name.startswith("webapp")]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "geocoder failed" in warnings[0].getMessage()
    for part in ("LaSalle", "60602"):  # in no record, from us or from geopy
        assert part not in caplog.text

    # The next request is answered again.
    assert locate(CITY_HALL) == Location(*CITY_HALL_AT)


def test_a_slow_server_times_out_quickly_as_not_found(nominatim_app, fake_nominatim, caplog):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)
    fake_nominatim.delay = 5.0
    app = nominatim_app(GEOCODER_TIMEOUT=0.2)

    with app.app_context():
        started = time.monotonic()
        assert geocoder().locate(CITY_HALL) is None
        elapsed = time.monotonic() - started

    assert elapsed < 1.0, f"took {elapsed:.2f}s with a 0.2s timeout"
    assert len(fake_nominatim.searches) == 1  # a timed-out read is not retried
    (warning,) = [r for r in caplog.records if r.name.startswith("webapp")]
    assert warning.levelno == logging.WARNING
    assert "GeocoderTimedOut" in warning.getMessage()
    assert "LaSalle" not in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        [{"place_id": 1, "lat": "north", "lon": "west", "display_name": "x"}],
        [{"place_id": 1, "lat": "141.88", "lon": "-87.63", "display_name": "x"}],
        [{"place_id": 1, "lat": "NaN", "lon": "-87.63", "display_name": "x"}],
        [{"place_id": 1, "display_name": "no coordinates"}],  # geopy would say (0, 0)
        {"error": "Internal error"},
        "Service Unavailable",
        [1],
        b"<html><body>502 Bad Gateway</body></html>",
    ],
    ids=["words", "out-of-range", "nan", "no-lat-lon", "error", "string", "number", "html"],
)
def test_a_malformed_answer_is_not_found(locate, fake_nominatim, caplog, answer):
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)
    fake_nominatim.answer_next(answer)

    assert locate(CITY_HALL) is None  # never an exception: the registration must go through

    (warning,) = [r for r in caplog.records if r.name.startswith("webapp")]
    assert warning.levelno == logging.WARNING
    assert "geocoder failed" in warning.getMessage()
    assert "LaSalle" not in caplog.text


def test_an_unreachable_server_is_not_found(make_app, fake_nominatim, caplog):
    url = fake_nominatim.url
    fake_nominatim.stop()  # nothing listens on that port any more
    app = make_app(GEOCODER="nominatim", GEOCODER_URL=url, GEOCODER_TIMEOUT=1.0)
    with app.app_context():
        assert geocoder().locate(CITY_HALL) is None
    assert "geocoder failed" in caplog.text
    assert "LaSalle" not in caplog.text


def test_the_default_geocoder_is_manual_and_finds_nothing(make_app, fake_nominatim, monkeypatch):
    monkeypatch.delenv("GEOCODER", raising=False)
    fake_nominatim.add(CITY_HALL, *CITY_HALL_AT)
    app = make_app(GEOCODER_URL=fake_nominatim.url)
    with app.app_context():
        found = geocoder()
        assert isinstance(found, ManualGeocoder)
        assert found.locate(CITY_HALL) is None
    assert fake_nominatim.requests == []

    settings = Settings.from_env({"APP_ENV": "development"})
    assert settings.GEOCODER == "manual"


def test_geocoder_settings_are_checked_at_start_up(make_app):
    with pytest.raises(ConfigError, match="GEOCODER"):
        Settings.from_env({"APP_ENV": "development", "GEOCODER": "google"})
    with pytest.raises(ConfigError, match="GEOCODER_URL"):
        Settings.from_env({"APP_ENV": "development", "GEOCODER": "nominatim"})
    with pytest.raises(ConfigError, match="GEOCODER_URL"):
        Settings.from_env(
            {"APP_ENV": "development", "GEOCODER": "nominatim", "GEOCODER_URL": "nominatim.lan"}
        )
    with pytest.raises(ConfigError, match="GEOCODER_TIMEOUT"):
        Settings.from_env({"APP_ENV": "development", "GEOCODER_TIMEOUT": "soon"})
    # The app refuses to start the same way.
    with pytest.raises(ConfigError, match="GEOCODER"):
        make_app(GEOCODER="google")
    with pytest.raises(ConfigError, match="GEOCODER_URL"):
        make_app(GEOCODER="nominatim", GEOCODER_URL="")

    settings = Settings.from_env(
        {
            "APP_ENV": "development",
            "GEOCODER": "nominatim",
            "GEOCODER_URL": "https://nominatim.openstreetmap.org",
            "GEOCODER_TIMEOUT": "1.5",
        }
    )
    assert settings.GEOCODER_TIMEOUT == 1.5
