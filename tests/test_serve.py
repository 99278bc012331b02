"""`basewatch serve`: deployments with cron schedules in a named timezone, one digest a day."""

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from flows.cli import main
from flows.serve import build_deployments
from flows.settings import load_settings


def test_deployments_carry_the_configured_schedules(tmp_path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        ingest_cron="*/10 * * * *",
        digest_cron="30 6 * * *",
        timezone="America/New_York",
    )
    ingest, digest = build_deployments(settings)
    assert (ingest.name, digest.name) == ("basewatch-ingest", "basewatch-digest")
    assert ingest.schedules[0].schedule.cron == "*/10 * * * *"
    assert digest.schedules[0].schedule.cron == "30 6 * * *"
    assert digest.schedules[0].schedule.timezone == "America/New_York"
    assert ingest.parameters == {} and digest.parameters == {}  # no secrets in Prefect's DB


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Asia/Baghdad"])
def test_daily_digest_runs_once_per_local_day_across_dst(zone: str) -> None:
    from prefect.server.schemas.schedules import CronSchedule

    schedule = CronSchedule(cron="0 7 * * *", timezone=zone)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    dates = asyncio.run(schedule.get_dates(n=365, start=start))
    dates = [datetime.fromtimestamp(d.timestamp(), tz=UTC) for d in dates]
    local = [d.astimezone(ZoneInfo(zone)) for d in dates]
    assert len({d.date() for d in local}) == 365
    assert all((d.hour, d.minute) == (7, 0) for d in local)
    gaps = {b - a for a, b in itertools.pairwise(dates)}
    assert gaps <= {timedelta(hours=23), timedelta(hours=24), timedelta(hours=25)}


@pytest.mark.parametrize(
    "variable, value",
    [("BASEWATCH_TIMEZONE", "Mars/Olympus"), ("BASEWATCH_DIGEST_CRON", "every morning")],
)
def test_bad_schedule_settings_are_one_line_errors(tmp_path, monkeypatch, variable, value) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve"])
    assert result.exit_code == 2
    assert variable in result.output
    assert "Traceback" not in result.output
