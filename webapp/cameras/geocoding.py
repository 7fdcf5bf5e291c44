"""Turning a registration's address into coordinates, behind one small interface.

``manual`` (the default) needs no network: it finds nothing, and the moderator enters or
confirms the coordinates while verifying the registration. ``nominatim`` asks a Nominatim
server (OpenStreetMap's, or the city's own) through ``geopy``; any failure there is logged
without the address and treated as "not found", so a registration is never lost to it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import partial
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


class Geocoder(Protocol):
    def locate(self, address: str) -> Location | None: ...


class ManualGeocoder:
    """Finds nothing: a moderator supplies the coordinates."""

    def locate(self, address: str) -> Location | None:
        return None


class NominatimGeocoder:
    """A Nominatim server through geopy (its URL from ``GEOCODER_URL``)."""

    def __init__(self, url: str, user_agent: str, timeout: float, country: str = "us"):
        from geopy.adapters import RequestsAdapter
        from geopy.geocoders import Nominatim

        parts = urlsplit(url)
        self.country = country
        self._nominatim = Nominatim(
            domain=parts.netloc + parts.path.rstrip("/"),
            scheme=parts.scheme,
            user_agent=user_agent,
            timeout=timeout,
            # geopy's default retries twice, read timeouts included: that triples the
            # timeout, and urllib3 logs each retry as a warning with the URL (the address).
            adapter_factory=partial(RequestsAdapter, max_retries=0),
        )

    def locate(self, address: str) -> Location | None:
        try:
            found = self._nominatim.geocode(address, exactly_one=True,
                                            country_codes=self.country)  # fmt: skip
        except Exception as exc:  # GeopyError, or an answer geopy cannot parse
            log.warning("geocoder failed: %s", type(exc).__name__)  # never the address itself
            return None
        if found is None:
            return None
        # geopy reads a place without "lat"/"lon" as (0, 0): take them from the answer itself.
        raw = found.raw if isinstance(found.raw, dict) else {}
        try:
            latitude, longitude = float(raw["lat"]), float(raw["lon"])
        except (KeyError, TypeError, ValueError):
            latitude = longitude = math.nan
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # False for NaN too
            log.warning("geocoder failed: an answer without usable coordinates")
            return None
        return Location(latitude, longitude)


def geocoder() -> Geocoder:
    config = current_app.config
    if config["GEOCODER"] == "nominatim":
        return NominatimGeocoder(
            config["GEOCODER_URL"], config["GEOCODER_USER_AGENT"], config["GEOCODER_TIMEOUT"]
        )
    return ManualGeocoder()


def one_line(street: str, unit: str | None, city: str, state: str, zip_code: str) -> str:
    return ", ".join(part for part in (street, unit, city, f"{state} {zip_code}") if part)
