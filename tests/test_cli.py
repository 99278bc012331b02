"""The command line: bad input is one `Error:` line and exit 2; exports from a real database."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from conftest import REPO, SEED_NAME, SEEDS, SITE

from extract.gazetteer import default_gazetteer
from flows.cli import main
from flows.ingest import ingest
from flows.settings import Settings
from flows.store import open_store

SEED_TEXT = SEEDS / f"{SEED_NAME}.txt"
PUBLISHED = "2020-06-14T12:00:00+03:00"
SEED_URL = (
    "https://themedialine.org/by-region/"
    "weekend-rockets-part-of-iran-backed-pressure-campaign-against-us-troops-in-iraq/print/"
)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def error_line(result: Result, *fragments: str, only_line: bool = True) -> str:
    """Assert bad input: exit 2, exactly one `Error: ` line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    if only_line:
        assert lines == errors, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


def test_extract_html_page() -> None:
    page = SITE / "articles" / "asad-rockets-2021-03-03.html"
    result = invoke(
        "extract", str(page), "--published", "2021-03-03T14:00:00+03:00", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    [event] = json.loads(result.stdout)["events"]
    assert (event["site"]["id"], event["date_start"], event["attack_type"]) == (
        "ain-al-asad",
        "2021-03-03",
        "rocket",
    )
    assert event["recent"] is True


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "ingest"])
def test_missing_sources_file(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "nope.yaml"
    result = invoke("--data-dir", str(tmp_path / "data"), command, "--sources", str(missing))
    assert error_line(result) == (
        f"Error: sources file {str(missing)!r} not found (give --sources or BASEWATCH_SOURCES)"
    )


def test_invalid_yaml_sources_file(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("feeds:\n  - name: wire\n    url: [unclosed\n", encoding="utf-8")
    result = invoke("--data-dir", str(tmp_path / "data"), "run", "--sources", str(sources))
    error_line(result, str(sources), "invalid YAML at line")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("feeds:\n  - name: wire\n", "give url (a feed), path (a seed folder/feed file)"),
        (
            "feeds:\n  - name: wire\n    url: https://a.example/f\n    path: seeds\n",
            "give exactly one of url",
        ),
        ("feeds:\n  - name: wire\n    url: ftp://a.example/feed.xml\n", "url must be http(s)"),
        (
            "feeds:\n  - {name: a, url: 'https://a.example/f'}\n  - {name: a, path: seeds}\n",
            "duplicate name 'a'",
        ),
        ("sources:\n  - name: wire\n", "feeds"),
    ],
    ids=["no-url-or-path", "both", "ftp", "duplicate", "wrong-key"],
)
def test_invalid_sources_entries(tmp_path: Path, body: str, fragment: str) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(body, encoding="utf-8")
    result = invoke("--data-dir", str(tmp_path / "data"), "ingest", "--sources", str(sources))
    error_line(result, str(sources), fragment)


def test_sources_path_is_a_directory(tmp_path: Path) -> None:
    result = invoke("--data-dir", str(tmp_path / "data"), "ingest", "--sources", str(tmp_path))
    error_line(result, "cannot read")


def test_bad_setting_names_the_variable(tmp_path: Path) -> None:
    result = invoke(
        "--data-dir", str(tmp_path / "data"), "digest", env={"BASEWATCH_SMTP_PORT": "abc"}
    )
    error_line(result, "BASEWATCH_SMTP_PORT", "'abc'")


def test_extract_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    result = invoke("extract", str(missing), "--published", PUBLISHED)
    assert error_line(result) == f"Error: {missing}: no such file"


def test_extract_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "article.txt"
    binary.write_bytes(b"Rockets\x00\x01\x02 hit the base" * 10)
    error_line(invoke("extract", str(binary), "--published", PUBLISHED), "binary file")


def test_extract_pdf(tmp_path: Path) -> None:
    pdf = tmp_path / "article.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    error_line(
        invoke("extract", str(pdf), "--published", PUBLISHED), "expected a .txt or .html file"
    )


def test_extract_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "article.txt"
    latin.write_bytes("Rockets hit the base in Bal\xe2d".encode("latin-1"))
    error_line(invoke("extract", str(latin), "--published", PUBLISHED), "not UTF-8")


def test_extract_directory(tmp_path: Path) -> None:
    folder = tmp_path / "article.txt"
    folder.mkdir()
    error_line(invoke("extract", str(folder), "--published", PUBLISHED), "is a directory")


@pytest.mark.parametrize("value", ["yesterday", "2020-13-01", "14/06/2020", ""])
def test_extract_bad_published(value: str) -> None:
    result = invoke("extract", str(SEED_TEXT), "--published", value)
    assert error_line(result) == (
        f"Error: --published: not an ISO 8601 date or datetime ({value!r})"
    )


def test_extract_without_published_is_a_usage_error() -> None:
    error_line(invoke("extract", str(SEED_TEXT)), "--published", only_line=False)


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_events_bad_date(tmp_path: Path, option: str) -> None:
    result = invoke("--data-dir", str(tmp_path / "data"), "events", option, "notadate")
    assert error_line(result) == (f"Error: {option}: not a date, expected YYYY-MM-DD ('notadate')")


def test_events_since_after_until(tmp_path: Path) -> None:
    result = invoke(
        "--data-dir",
        str(tmp_path / "data"),
        "events",
        "--since",
        "2020-06-14",
        "--until",
        "2020-06-01",
    )
    error_line(result, "--since 2020-06-14 is after --until 2020-06-01")


def test_events_unknown_format(tmp_path: Path) -> None:
    # click's own usage error: a usage hint, then the one `Error:` line.
    result = invoke("--data-dir", str(tmp_path / "data"), "events", "--format", "xml")
    error_line(result, "'xml'", only_line=False)


@pytest.mark.parametrize(
    "address",
    [
        "not-an-email",
        "a@b@c.example",
        "Ana <ana@example.com>",
        "ana@example.com\r\nBcc: x@example.com",
    ],
)
def test_subscribers_add_rejects_what_is_not_an_address(tmp_path: Path, address: str) -> None:
    result = invoke("--data-dir", str(tmp_path / "data"), "subscribers", "add", address)
    error_line(result, "not an email address")
    listed = invoke("--data-dir", str(tmp_path / "data"), "subscribers", "list")
    assert (listed.exit_code, listed.stdout) == (0, "")


# -- commands that work --------------------------------------------------------------------------


def test_subscribers_add_list_remove(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert (
        invoke(*data, "subscribers", "add", "Ana@Example.COM").stdout
        == "subscribed Ana@example.com\n"
    )
    assert (
        invoke(*data, "subscribers", "add", "Ana@example.com").stdout
        == "Ana@example.com is already subscribed\n"
    )
    invoke(*data, "subscribers", "add", "bo@example.org")
    listed = invoke(*data, "subscribers", "list").stdout.splitlines()
    assert [line.split()[0] for line in listed[2:]] == ["Ana@example.com", "bo@example.org"]
    assert invoke(*data, "subscribers", "remove", "bo@example.org").exit_code == 0
    listed = invoke(*data, "subscribers", "list").stdout.splitlines()
    assert [line.split()[0] for line in listed[2:]] == ["Ana@example.com"]
    # A fault that is not bad input: exit 1, one line.
    again = invoke(*data, "subscribers", "remove", "bo@example.org")
    assert again.exit_code == 1
    assert again.stderr == "Error: bo@example.org is not subscribed\n"


def test_sites_lists_the_gazetteer() -> None:
    result = invoke("sites")
    assert result.exit_code == 0, result.output
    header, rule, *rows = result.stdout.splitlines()
    assert header.split() == ["id", "name", "country", "lat", "lon", "US", "presence"]
    assert set(rule) <= {"-", " "}
    assert len(rows) >= 60
    assert any(row.startswith("camp-taji ") for row in rows)
    as_json = json.loads(invoke("sites", "--format", "json").stdout)
    assert len(as_json) == len(rows)
    assert {"id", "name", "country", "lat", "lon", "us_presence", "source"} <= set(as_json[0])


def test_sites_and_extract_do_not_load_prefect() -> None:
    # What keeps them quick: no Prefect, no database, no flow run (checked in a fresh process).
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from flows.cli import main\n"
        "r = CliRunner()\n"
        "assert r.invoke(main, ['sites']).exit_code == 0\n"
        f"assert r.invoke(main, ['extract', {str(SEED_TEXT)!r}, '--published', "
        f"{PUBLISHED!r}]).exit_code == 0\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'sqlalchemy'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    usage, _, description = result.stdout.partition("\n\n")
    assert usage.startswith("Usage:") and description.strip()


# -- exports from a database made by ingesting the seed ----------------------------------------


@pytest.fixture(scope="module")
def seed_settings(tmp_path_factory: pytest.TempPathFactory, settings_builder) -> Settings:
    """Settings on a database made by ingesting a folder that holds only the seed."""
    folder = tmp_path_factory.mktemp("seed-db")
    (folder / "seed").mkdir()
    for suffix in (".txt", ".yaml"):
        shutil.copy(SEEDS / f"{SEED_NAME}{suffix}", folder / "seed")
    settings = settings_builder(folder, [{"name": "medialine", "path": "seed"}])
    report = ingest(settings)
    assert (report.articles_new, report.events) == (1, 3)
    return settings


@pytest.fixture
def seed_data(seed_settings: Settings) -> list[str]:
    """The --data-dir option for the seed database."""
    return [
        "--data-dir",
        str(seed_settings.data_dir),
        "--database-url",
        seed_settings.resolved_database_url,
    ]


def test_events_json(seed_data: list[str]) -> None:
    result = invoke(*seed_data, "events", "--format", "json")
    assert result.exit_code == 0, result.output
    [incident] = json.loads(result.stdout)  # recalled-only attacks are left out
    assert incident["site"]["id"] == "camp-taji"
    assert (incident["date_start"], incident["date_precision"]) == ("2020-06-13", "day")
    assert incident["attack_type"] == "rocket"
    assert [s["url"] for s in incident["sources"]] == [SEED_URL]
    assert {"id", "first_seen", "updated", "sources", "evidence"} <= set(incident)


def test_events_json_all_includes_recalled_attacks(seed_data: list[str]) -> None:
    result = invoke(*seed_data, "events", "--format", "json", "--all")
    rows = json.loads(result.stdout)
    assert sorted((i["site"]["id"], i["date_start"], i["recent"]) for i in rows) == [
        ("camp-taji", "2020-03-01", False),
        ("camp-taji", "2020-06-13", True),
        ("k1-air-base", "2019-12-01", False),
    ]


def test_events_date_filter(seed_data: list[str]) -> None:
    after = invoke(*seed_data, "events", "--format", "json", "--all", "--since", "2020-04-01")
    assert [i["date_start"] for i in json.loads(after.stdout)] == ["2020-06-13"]
    before = invoke(*seed_data, "events", "--format", "json", "--until", "2020-06-12")
    assert json.loads(before.stdout) == []


def test_events_csv(seed_data: list[str]) -> None:
    result = invoke(*seed_data, "events", "--format", "csv")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == [
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
        "lat",
        "lon",
        "source_urls",
    ]
    [row] = list(reader)
    assert (row["date"], row["site"], row["country"], row["type"]) == (
        "2020-06-13",
        "Camp Taji",
        "IQ",
        "rocket",
    )
    assert (row["munitions"], row["killed"], row["sources"]) == ("2", "0 (0 US)", "1")
    assert (float(row["lat"]), float(row["lon"])) == (33.5206, 44.2567)
    assert row["source_urls"] == SEED_URL


def test_events_geojson(seed_data: list[str]) -> None:
    result = invoke(*seed_data, "events", "--format", "geojson")
    assert result.exit_code == 0, result.output
    collection = json.loads(result.stdout)
    assert collection["type"] == "FeatureCollection"
    [feature] = collection["features"]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [44.2567, 33.5206]}
    assert feature["properties"]["site"]["id"] == "camp-taji"
    assert "evidence" not in feature["properties"]


def test_events_table(seed_data: list[str]) -> None:
    result = invoke(*seed_data, "events")
    assert result.exit_code == 0, result.output
    header, _, *rows = result.stdout.splitlines()
    assert header.split()[:4] == ["id", "date", "recent", "site"]
    assert len(rows) == 1 and "Camp Taji" in rows[0] and "2020-06-13" in rows[0]


def test_digest_dry_run_prints_the_digest_and_stores_nothing(
    seed_data: list[str], seed_settings: Settings
) -> None:
    result = invoke(*seed_data, "digest", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "NEW ATTACKS (1)" in result.stdout
    assert "13 Jun 2020 — Camp Taji, Iraq" in result.stdout
    store = open_store(seed_settings.resolved_database_url, default_gazetteer())
    assert store.counts()["digests"] == 0


# -- run without mail, then send what is owed ----------------------------------------------------


def test_run_no_email_keeps_deliveries_pending_until_digest(tmp_path: Path, seed_dir: Path) -> None:
    from conftest import write_sources

    sources = write_sources(tmp_path / "sources.yaml", [{"name": "medialine", "path": "seed"}])
    data = ["--data-dir", str(tmp_path / "data")]
    outbox = tmp_path / "data" / "outbox"
    assert invoke(*data, "subscribers", "add", "ana@example.com").exit_code == 0

    ran = invoke(*data, "run", "--sources", str(sources), "--no-email")
    assert ran.exit_code == 0, ran.output
    written = tmp_path / "data" / "digests" / "digest-0001.html"
    assert ran.stdout.splitlines() == [
        "sources: 1 ok, 0 failed; articles: 1 new; events: 3; incidents: 3 new, 0 updated",
        f"digest #1: 1 new, 0 updated, written to {written}; 1 deliveries pending",
    ]
    assert not outbox.exists() or not list(outbox.iterdir())

    sent = invoke(*data, "digest")
    assert sent.exit_code == 0, sent.output
    assert (
        sent.stdout == f"digest: nothing new or updated since the last one; sent 1 via {outbox}\n"
    )
    assert [p.name for p in outbox.iterdir()] == ["digest-0001-ana@example.com.eml"]

    again = invoke(*data, "digest")
    assert (
        again.stdout == f"digest: nothing new or updated since the last one; sent 0 via {outbox}\n"
    )
