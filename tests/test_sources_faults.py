"""A failing source is one warning and the run goes on (500, timeout, invalid XML)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DEFAULT_FEED, Site, write_sources

from extract.gazetteer import default_gazetteer
from flows.cli import main
from flows.ingest import ingest
from flows.settings import Settings
from flows.store import open_store

FAILING = {"error500": "/status/500", "slow": "/slow", "broken": "/invalid.xml"}
FAST_ENV = {
    "BASEWATCH_RETRIES": "1",
    "BASEWATCH_RETRY_DELAY": "0.01",
    "BASEWATCH_READ_TIMEOUT": "0.5",
    "BASEWATCH_CONNECT_TIMEOUT": "0.5",
}


def feeds(site: Site) -> list[dict[str, str]]:
    good = site.add_feed([site.article_item(name) for name in DEFAULT_FEED])
    return [{"name": "good", "url": good}] + [
        {"name": name, "url": site.url(path)} for name, path in FAILING.items()
    ]


def test_ingest_keeps_the_good_feed_and_names_each_failed_source(
    site: Site, settings: Callable[..., Settings]
) -> None:
    config = settings(feeds(site))
    report = ingest(config)
    assert report.sources_ok == ["good"]
    assert set(report.sources_failed) == set(FAILING)
    assert report.articles_new == len(DEFAULT_FEED)
    assert "HTTP 500" in report.sources_failed["error500"]
    assert "timed out" in report.sources_failed["slow"]
    assert "not a valid RSS/Atom feed" in report.sources_failed["broken"]
    for reason in report.sources_failed.values():
        assert "\n" not in reason

    store = open_store(config.resolved_database_url, default_gazetteer())
    health = {h.name: h for h in store.source_health()}
    assert health["good"].articles == len(DEFAULT_FEED) and health["good"].last_success
    for name in FAILING:
        assert health[name].consecutive_failures == 1 and health[name].last_error


def test_transient_faults_are_retried_and_permanent_ones_are_not(
    site: Site, settings: Callable[..., Settings]
) -> None:
    config = settings(
        [
            {"name": "error500", "url": site.url("/status/500?retry-probe")},
            {"name": "gone", "url": site.url("/status/404?retry-probe")},
        ]
    )
    report = ingest(config)
    assert set(report.sources_failed) == {"error500", "gone"}
    assert len(site.requests_to("/status/500?retry-probe")) == config.retries + 1
    assert len(site.requests_to("/status/404?retry-probe")) == 1


def test_cli_run_warns_once_per_failed_source_and_exits_0(site: Site, tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", feeds(site))
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(tmp_path / "data"), "run", "--sources", str(sources)],
        env=FAST_ENV,
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == len(FAILING), result.stderr
    for name in FAILING:
        assert sum(f"source {name}:" in line for line in warnings) == 1, warnings
    assert "Traceback" not in result.output
    assert "sources: 1 ok, 3 failed (broken, error500, slow)" in result.stdout
    assert "digest #1: 2 new" in result.stdout


@pytest.mark.parametrize("fault", ["error500", "broken"])
def test_cli_sources_shows_the_failure(site: Site, tmp_path: Path, fault: str) -> None:
    sources = write_sources(
        tmp_path / "sources.yaml", [{"name": fault, "url": site.url(FAILING[fault])}]
    )
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "data")]
    assert (
        runner.invoke(main, [*data, "ingest", "--sources", str(sources)], env=FAST_ENV).exit_code
        == 0
    )
    result = runner.invoke(main, [*data, "sources"])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.stdout.splitlines() if line.startswith(fault)]
    assert "never" in row and " 1 " in row


def test_local_source_faults_are_isolated(
    site: Site, settings: Callable[..., Settings], tmp_path: Path, seed_dir: Path
) -> None:
    no_sidecar = tmp_path / "no-sidecar"
    no_sidecar.mkdir()
    (no_sidecar / "story.txt").write_text("Rockets hit Camp Taji on Saturday.", encoding="utf-8")
    bad_sidecar = tmp_path / "bad-sidecar"
    bad_sidecar.mkdir()
    (bad_sidecar / "story.txt").write_text("Rockets hit Camp Taji on Saturday.", encoding="utf-8")
    (bad_sidecar / "story.yaml").write_text(
        "url: https://a.example/1\ntitle: x\n", encoding="utf-8"
    )
    config = settings(
        [
            {"name": "seed", "path": "seed"},
            {"name": "no-sidecar", "path": "no-sidecar"},
            {"name": "bad-sidecar", "path": "bad-sidecar"},
            {"name": "no-file", "path": "missing-feed.xml"},
        ]
    )
    report = ingest(config)
    assert report.sources_ok == ["seed"] and report.articles_new == 1
    assert set(report.sources_failed) == {"no-sidecar", "bad-sidecar", "no-file"}
    assert "no sidecar story.yaml" in report.sources_failed["no-sidecar"]
    assert "invalid sidecar" in report.sources_failed["bad-sidecar"]
    assert "missing-feed.xml" in report.sources_failed["no-file"]
    for reason in report.sources_failed.values():
        assert "\n" not in reason
