"""Incidents as table rows, CSV and GeoJSON (the CLI's `events` and the web app's downloads)."""

from __future__ import annotations

import csv
import io
from typing import Any

__all__ = ["CSV_COLUMNS", "event_row", "incidents_csv", "incidents_geojson"]

CSV_COLUMNS = (
    "id",
    "date",
    "precision",
    "recent",
    "site",
    "country",
    "type",
    "munitions",
    "outcome",
    "killed",
    "wounded",
    "perpetrator",
    "sources",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "@", "\t", "\r", "\n")


def _figure(value: dict[str, Any], a: str, b: str) -> str:
    low, high = value[a], value[b]
    if low is None and high is None:
        return "?"
    if a == "total":
        return f"{'?' if low is None else low}" + (f" ({high} US)" if high is not None else "")
    return (
        f"{low if low is not None else '?'}..{high if high is not None else ''}"
        if low != high
        else str(low)
    )


def event_row(data: dict[str, Any]) -> dict[str, str]:
    """Return an event or incident (the JSON contract) as one row of short strings."""
    site = data["site"]
    when = (
        data["date_start"]
        if data["date_precision"] == "day"
        else f"{data['date_start']}..{data['date_end']}"
    )
    return {
        "id": str(data.get("id", "")),
        "date": when,
        "precision": data["date_precision"],
        "recent": "yes" if data["recent"] else "no",
        "site": site["name"] if site else data["location_text"],
        "country": site["country"] if site else "",
        "type": data["attack_type"],
        "munitions": _figure(data["munitions"], "min", "max"),
        "outcome": data["outcome"],
        "killed": _figure(data["killed"], "total", "us"),
        "wounded": _figure(data["wounded"], "total", "us"),
        "perpetrator": (
            f"{data['perpetrator']['name'] or '?'} ({data['perpetrator']['status']})"
            if data["perpetrator"]["status"] != "unknown"
            else "?"
        ),
        "sources": str(len(data.get("sources", []))),
    }


def _cell(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, str) and value.startswith("-") and not value[1:2].isdigit():
        return "'" + value
    return value


def incidents_csv(incidents: list[dict[str, Any]]) -> str:
    """Return incidents (the JSON contract) as CSV: one row each, with lat, lon, source URLs."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=[*CSV_COLUMNS, "lat", "lon", "source_urls"], lineterminator="\n"
    )
    writer.writeheader()
    for item in incidents:
        row: dict[str, Any] = {c: event_row(item)[c] for c in CSV_COLUMNS}
        row["lat"] = item["site"]["lat"] if item["site"] else ""
        row["lon"] = item["site"]["lon"] if item["site"] else ""
        row["source_urls"] = " ".join(s["url"] for s in item["sources"])
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


def incidents_geojson(incidents: list[dict[str, Any]]) -> dict[str, Any]:
    """Return incidents at a known site as a GeoJSON FeatureCollection (points)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [i["site"]["lon"], i["site"]["lat"]]},
            "properties": {k: v for k, v in i.items() if k != "evidence"},
        }
        for i in incidents
        if i["site"]
    ]
    return {"type": "FeatureCollection", "features": features}
