"""Subscribers and their preferences in the store (SQLite file, or PostgreSQL in the CI pass)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from extract.errors import NotSubscribedError
from extract.gazetteer import default_gazetteer
from extract.preferences import Preferences
from flows.cli import main
from flows.settings import Settings
from flows.store import Store, open_store


@pytest.fixture
def store(settings: Callable[..., Settings]) -> Store:
    return open_store(settings([]).resolved_database_url, default_gazetteer())


def test_new_subscriber_gets_the_default_preferences(store: Store) -> None:
    assert store.add_subscriber("ana@example.com") is True
    assert store.subscriber_preferences("ana@example.com") == Preferences()
    assert store.subscriber_preferences("nobody@example.com") is None


def test_preferences_are_stored_and_replaced(store: Store) -> None:
    drones = Preferences(countries=("SY",), attack_types=("drone",), cadence="immediate")
    assert store.add_subscriber("ana@example.com", drones) is True
    assert store.subscriber_preferences("ana@example.com") == drones
    # Subscribing again changes nothing (no one changes preferences without a signed link).
    assert store.add_subscriber("ana@example.com", Preferences()) is False
    assert store.subscriber_preferences("ana@example.com") == drones
    weekly = Preferences(cadence="weekly", format="text", timezone="Asia/Baghdad")
    store.set_preferences("ana@example.com", weekly)
    assert store.subscriber_preferences("ana@example.com") == weekly
    assert store.subscriber_list() == [("ana@example.com", weekly)]


def test_removed_subscriber_has_no_preferences_until_back(store: Store) -> None:
    prefs = Preferences(countries=("IQ",))
    store.add_subscriber("ana@example.com", prefs)
    assert store.remove_subscriber("ana@example.com") is True
    assert store.subscriber_preferences("ana@example.com") is None
    with pytest.raises(NotSubscribedError, match="ana@example.com is not subscribed"):
        store.set_preferences("ana@example.com", Preferences())
    assert store.add_subscriber("ana@example.com") is True
    assert store.subscriber_preferences("ana@example.com") == prefs  # kept from before
    store.remove_subscriber("ana@example.com")
    assert store.add_subscriber("ana@example.com", Preferences(format="text")) is True
    assert store.subscriber_preferences("ana@example.com") == Preferences(format="text")


# -- the command line ----------------------------------------------------------------------------


def cli(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url]
        + list(args),
    )


def test_cli_add_with_preferences_then_set_and_list(settings: Callable[..., Settings]) -> None:
    config = settings([])
    added = cli(
        config,
        "subscribers", "add", "ana@example.com",
        "--country", "iq", "--country", "SY", "--type", "drone",
        "--severity", "casualties", "--cadence", "immediate", "--timezone", "Asia/Baghdad",
    )  # fmt: skip
    assert (added.exit_code, added.stdout) == (0, "subscribed ana@example.com\n")
    store = open_store(config.resolved_database_url, default_gazetteer())
    assert store.subscriber_preferences("ana@example.com") == Preferences(
        countries=("IQ", "SY"),
        attack_types=("drone",),
        min_severity="casualties",
        cadence="immediate",
        timezone="Asia/Baghdad",
    )
    changed = cli(config, "subscribers", "set", "ana@example.com", "--format", "text",
                  "--country", "all", "--site", "tower-22")  # fmt: skip
    assert (changed.exit_code, changed.stdout) == (0, "preferences of ana@example.com saved\n")
    prefs = store.subscriber_preferences("ana@example.com")
    assert prefs == Preferences(
        sites=("tower-22",),
        attack_types=("drone",),
        min_severity="casualties",
        cadence="immediate",
        timezone="Asia/Baghdad",
        format="text",
    )
    cli(config, "subscribers", "add", "bo@example.org")
    listed = cli(config, "subscribers", "list").stdout.splitlines()
    assert listed[0].split() == [
        "email", "cadence", "format", "timezone", "severity", "countries", "sites", "types",
    ]  # fmt: skip
    assert listed[2].split() == [
        "ana@example.com", "immediate", "text", "Asia/Baghdad", "casualties", "all",
        "tower-22", "drone",
    ]  # fmt: skip
    assert listed[3].split() == [
        "bo@example.org", "daily", "html", "UTC", "any", "all", "all", "all",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--country", "XX"], "Error: country: unknown code 'XX'"),
        (["--type", "laser"], "Error: attack type: unknown 'laser'"),
        (
            ["--cadence", "hourly"],
            "Error: cadence: 'hourly' is not one of immediate, daily, weekly",
        ),
        (["--timezone", "Nowhere/City"], "Error: timezone: unknown 'Nowhere/City'"),
        (["--site", "camp-x"], "Error: site: unknown site id 'camp-x'"),
    ],
)
def test_cli_bad_preference_is_one_error_line(
    settings: Callable[..., Settings], options: list[str], message: str
) -> None:
    config = settings([])
    for command in ("add", "set"):
        if command == "set":
            cli(config, "subscribers", "add", "ana@example.com")
        result = cli(config, "subscribers", command, "ana@example.com", *options)
        assert result.exit_code == 2, (result.output, result.exception)
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(message)


def test_cli_set_needs_a_subscriber(settings: Callable[..., Settings], tmp_path: Path) -> None:
    result = cli(settings([]), "subscribers", "set", "ghost@example.com", "--format", "text")
    assert (result.exit_code, result.stderr) == (1, "Error: ghost@example.com is not subscribed\n")


def test_upgrade_keeps_what_subscribers_were_already_told(
    settings: Callable[..., Settings],
) -> None:
    """A database from before per-subscriber digests: what the digests delivered to a
    subscriber showed is what they have seen, so it is not new to them after the upgrade."""
    import json
    from datetime import UTC, datetime

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from flows.store import MIGRATIONS

    config_settings = settings([])
    config_settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = config_settings.resolved_database_url
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    stamp = datetime(2021, 3, 4, tzinfo=UTC)
    summary = {
        "date_start": "2021-03-03", "date_end": "2021-03-03", "date_precision": "day",
        "recent": True, "site": None, "location_text": "Ain al-Asad", "attack_type": "rocket",
        "munitions": {"min": None, "max": None}, "outcome": "unknown",
        "killed": {"total": None, "us": None}, "wounded": {"total": None, "us": None},
        "perpetrator": {"name": None, "status": "unknown"}, "evidence": [],
    }  # fmt: skip
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        rows = {
            "subscribers": {"id": 1, "email": "ana@example.com", "active": True,
                            "created": stamp},
            "incidents": {"id": 1, "site_id": None, "date_start": "2021-03-03",
                          "date_end": "2021-03-03", "newsworthy": True,
                          "summary": json.dumps(summary), "first_seen": stamp,
                          "updated": stamp},
            "digests": {"id": 1, "created": stamp, "subject": "s", "text": "t", "html": "h"},
            "digest_items": {"digest_id": 1, "incident_id": 1, "kind": "new",
                             "snapshot": '{"shown": true}'},
            "deliveries": {"digest_id": 1, "subscriber_id": 1, "status": "sent",
                           "message_id": "<m@basewatch>"},
        }  # fmt: skip
        for table, values in rows.items():
            columns = ", ".join(values)
            marks = ", ".join(f":{k}" for k in values)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)
    engine.dispose()

    store = open_store(url, default_gazetteer())  # upgrades to head, filling subscriber_seen
    with store.engine.connect() as connection:
        seen = connection.execute(
            text("SELECT subscriber_id, incident_id, snapshot FROM subscriber_seen")
        ).all()
    assert [(a, b, json.loads(c) if isinstance(c, str) else c) for a, b, c in seen] == [
        (1, 1, {"shown": True})
    ]
    [(address, prefs)] = store.subscriber_list()
    assert (address, prefs) == ("ana@example.com", Preferences())


def test_cli_run_alerts_immediate_subscribers_after_the_ingest(
    settings: Callable[..., Settings], seed_dir: Path, tmp_path: Path
) -> None:
    from conftest import write_sources

    config = settings([])
    sources = write_sources(tmp_path / "sources.yaml", [{"name": "medialine", "path": "seed"}])
    cli(config, "subscribers", "add", "now@example.com", "--cadence", "immediate")
    cli(config, "subscribers", "add", "later@example.com", "--country", "SY")

    held = cli(config, "run", "--sources", str(sources), "--no-email")
    assert held.exit_code == 0, held.output
    assert held.stdout.splitlines()[0].endswith("; alerts: 0 sent, 1 pending")

    sent = cli(config, "digest")
    assert sent.exit_code == 0, sent.output
    outbox = config.data_dir / "outbox"
    # The alert told now@ of the Taji attack, so their digest has nothing new: no digest mail.
    # later@ hears of Syria only: nothing.
    assert [p.name for p in outbox.iterdir()] == ["alert-d000001-now@example.com.eml"]
    assert sent.stdout == (
        f"digest: nothing new or updated since the last one; sent 1 via {outbox}\n"
    )


def test_cli_ingest_sends_the_alert_at_once(
    settings: Callable[..., Settings], seed_dir: Path, tmp_path: Path
) -> None:
    from conftest import write_sources

    config = settings([])
    sources = write_sources(tmp_path / "sources.yaml", [{"name": "medialine", "path": "seed"}])
    cli(
        config,
        "subscribers",
        "add",
        "now@example.com",
        "--cadence",
        "immediate",
        "--format",
        "text",
    )
    result = cli(config, "ingest", "--sources", str(sources))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "sources: 1 ok, 0 failed; articles: 1 new; events: 3; incidents: 3 new, 0 updated; "
        "alerts: 1 sent\n"
    )
    [alert] = (config.data_dir / "outbox").iterdir()
    message = alert.read_text(encoding="utf-8")
    assert "Subject: basewatch alert: Rocket attack on Camp Taji, Iraq" in message
    assert "Content-Type: text/plain" in message and "text/html" not in message
