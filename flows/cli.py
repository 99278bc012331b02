"""The basewatch command line: a thin click layer over flows/, extract/ and reports/."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from extract.errors import BasewatchError, ConfigError, InputError

__all__ = ["main"]

logger = logging.getLogger("basewatch")
FORMAT_CHOICES = click.Choice(["table", "json", "csv", "geojson"])


class UsageError(click.UsageError):
    """Bad input: one line, exit status 2 (as click's own usage errors)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def _configure_logging(debug: bool) -> None:
    """Our INFO lines on stderr; third-party loggers at WARNING (no framework noise)."""
    from flows.logs import CliFormatter, EngineNoiseFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(CliFormatter())
    handler.addFilter(EngineNoiseFilter())
    EngineNoiseFilter.verbose = debug
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("basewatch", "flows", "extract", "reports"):
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.INFO)


def _prepare_prefect(settings: Any) -> None:
    """Set Prefect's environment before it is imported: quiet, local, and as fast as it goes."""
    from flows.prefect_env import prefect_environment

    environment = prefect_environment(settings.data_dir)
    for key, value in environment.items():
        os.environ.setdefault(key, value)
    try:
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"cannot create {os.environ['PREFECT_HOME']}: {exc.strerror}")


class Context:
    """What the group passes to commands: flag overrides and the debug switch."""

    def __init__(self, debug: bool, overrides: dict[str, Any]) -> None:
        self.debug = debug
        self.overrides = overrides

    def settings(self, **more: Any) -> Any:
        from flows.settings import load_settings

        return load_settings(**self.overrides, **more)


def _fail(exc: BasewatchError, debug: bool) -> None:
    if debug:
        raise exc
    if isinstance(exc, (ConfigError, InputError)):
        raise UsageError(str(exc))
    raise click.ClickException(str(exc))


# The sources file option, the same on every command that reads sources.
SOURCES_OPTION = click.option(
    "--sources",
    "sources_path",
    type=click.Path(path_type=Path),
    help="Sources file (YAML) [env BASEWATCH_SOURCES; sources.yaml].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the database, digests and outbox live [env BASEWATCH_DATA_DIR; data].",
)
@click.option(
    "--database-url",
    help="SQLAlchemy URL, e.g. postgresql+psycopg://... "
    "[env BASEWATCH_DATABASE_URL; SQLite in the data dir].",
)
@click.option("--debug", is_flag=True, help="Show debug logs and tracebacks.")
@click.version_option(package_name="basewatch")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, database_url: str | None, debug: bool) -> None:
    """basewatch: attacks on sites hosting US personnel, from the news to a digest."""
    _configure_logging(debug)
    ctx.obj = Context(debug, {"data_dir": data_dir, "database_url": database_url})


def _run_flow(ctx: Context, settings: Any, which: str, **kwargs: Any) -> Any:
    """Check the inputs first (fast, one-line errors), then run the flow on Prefect."""
    from extract.gazetteer import default_gazetteer
    from flows.sources import load_sources
    from flows.store import open_store

    try:
        if which in ("ingest", "run"):
            kwargs["sources"] = load_sources(settings.sources)
        open_store(settings.resolved_database_url, default_gazetteer())
    except BasewatchError as exc:
        _fail(exc, ctx.debug)
    _prepare_prefect(settings)
    from contextlib import nullcontext

    from prefect.settings import get_current_settings

    from flows.serve import run_server

    server = (
        nullcontext(None)
        if get_current_settings().api.url
        else run_server(Path(os.environ["PREFECT_HOME"]) / "server.log", lambda: _preload(which))
    )
    try:
        with server as url:
            return _call_flow(ctx, settings, which, url, **kwargs)
    except BasewatchError as exc:
        _fail(exc, ctx.debug)
    except KeyboardInterrupt:
        # uv passes the terminal's Ctrl-C on too: a second one must not cut the exit short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise click.ClickException("interrupted; stored work is kept, run again to resume")


def _preload(which: str) -> None:
    """Import the flow and Prefect's flow engine while the temporary server starts. An import
    that fails here fails again, and is reported, where _call_flow runs the flow."""
    import importlib

    module = {"ingest": "flows.ingest", "backfill": "flows.backfill", "digest": "flows.digest"}
    try:
        importlib.import_module(module.get(which, "flows.run"))
        importlib.import_module("prefect.flow_engine")
        # What Prefect imports to record a flow run's parameters (FastAPI: a third of a second).
        importlib.import_module("fastapi.encoders")
    except Exception:  # noqa: BLE001, S110 - see the docstring
        pass


def _call_flow(ctx: Context, settings: Any, which: str, api_url: str | None, **kwargs: Any) -> Any:
    from prefect.settings import temporary_settings

    updates: dict[str, Any] = {"flows.heartbeat_frequency": None}
    if api_url:
        updates["api.url"] = api_url
    try:
        if which == "ingest":
            from flows.ingest import ingest as chosen
        elif which == "backfill":
            from flows.backfill import backfill, backfill_runner

            chosen = backfill.with_options(task_runner=backfill_runner(settings.backfill_workers))
        elif which == "digest":
            from flows.digest import digest as chosen
        else:
            from flows.run import run as chosen
        # A flow waits for its heartbeat thread (1 s steps) on exit; a CLI run needs none.
        with temporary_settings(updates=updates):
            return chosen(settings, **kwargs)
    except (BasewatchError, KeyboardInterrupt):
        raise
    except Exception as exc:
        if ctx.debug:
            raise
        raise click.ClickException(
            f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        ) from exc


def _ingest_summary(report: Any) -> str:
    failed = ""
    if report.sources_failed:
        failed = " (" + ", ".join(sorted(report.sources_failed)) + ")"
    return (
        f"sources: {len(report.sources_ok)} ok, {len(report.sources_failed)} failed{failed}; "
        f"articles: {report.articles_new} new"
        + (f", {report.articles_failed} failed" if report.articles_failed else "")
        + f"; events: {report.events}; incidents: {len(report.incidents_new)} new, "
        f"{len(report.incidents_updated)} updated" + _alerts_summary(report)
    )


def _alerts_summary(report: Any) -> str:
    """Return "; alerts: N sent[, M failed (will retry)][, K pending]", or "" if none."""
    if not (report.alerts_made or report.alerts_sent or report.alerts_failed):
        return ""
    text = f"; alerts: {report.alerts_sent} sent"
    if report.alerts_failed:
        text += f", {report.alerts_failed} failed (will retry)"
    waiting = report.alerts_made - report.alerts_sent - report.alerts_failed
    if waiting > 0:
        text += f", {waiting} pending"
    return text


def _digest_summary(report: Any, send: bool) -> str:
    if report.digest_id is not None:
        text = (
            f"digest #{report.digest_id}: {report.new} new, {report.updated} updated, "
            f"written to {report.path}"
        )
    else:
        text = "digest: nothing new or updated since the last one"
    if send:
        text += f"; sent {report.sent}"
        if report.where:
            text += f" via {report.where}"
        if report.failed:
            text += f", {len(report.failed)} failed (will retry)"
        if report.stopped:
            text += f" ({report.stopped})"
    if report.pending:
        text += f"; {report.pending} deliveries pending"
    return text


@main.command()
@SOURCES_OPTION
@click.option(
    "--no-email",
    is_flag=True,
    help="Write the digest but send nothing now (deliveries stay pending).",
)
@click.pass_obj
def run(ctx: Context, sources_path: Path | None, no_email: bool) -> None:
    """Ingest every source, then write and send the digest."""
    settings = _settings(ctx, sources_path)
    ingest_report, digest_report = _run_flow(ctx, settings, "run", send=not no_email)
    click.echo(_ingest_summary(ingest_report))
    click.echo(_digest_summary(digest_report, not no_email))


@main.command()
@SOURCES_OPTION
@click.pass_obj
def ingest(ctx: Context, sources_path: Path | None) -> None:
    """Poll the sources and store new articles, events and incidents (no digest)."""
    settings = _settings(ctx, sources_path)
    click.echo(_ingest_summary(_run_flow(ctx, settings, "ingest")))


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the digest that would be made; store nothing.")
@click.option("--no-email", is_flag=True, help="Write the digest files but send nothing now.")
@click.pass_obj
def digest(ctx: Context, dry_run: bool, no_email: bool) -> None:
    """Write (and send) a digest of what is new or updated since the last one."""
    settings = _settings(ctx, None)
    report = _run_flow(ctx, settings, "digest", dry_run=dry_run, send=not (no_email or dry_run))
    if dry_run:
        click.echo(report.preview, nl=False)
        return
    click.echo(_digest_summary(report, not no_email))


def _backfill_summary(report: Any) -> str:
    window = f"{report.since}..{report.until}"
    head = f"backfill {window}" + (f" (resumed run #{report.run_id})" if report.resumed else "")
    incidents = (
        f"incidents: {len(report.incidents_new)} new, {len(report.incidents_updated)} updated"
    )
    if report.reextract:
        return (
            f"{head}: {report.pages} stored articles re-extracted, {report.changed} changed; "
            f"events: {report.events}; {incidents}"
        )
    failed = ""
    if report.sources_failed:
        failed = " (" + ", ".join(sorted(report.sources_failed)) + ")"
    return (
        f"{head}: sources: {len(report.sources_ok)} ok, {len(report.sources_failed)} failed"
        f"{failed}; pages: {report.pages} fetched ({report.had} had already), "
        f"{report.articles_new} new articles, {report.known} duplicates, "
        f"{report.outside} outside the window, {report.failed} failed; "
        f"events: {report.events}; {incidents}"
    )


@main.command()
@click.option("--since", required=True, help="First publication date (YYYY-MM-DD) to backfill.")
@click.option("--until", required=True, help="Last publication date (YYYY-MM-DD) to backfill.")
@click.option("--source", "source_name", help="Only this source (its name in the sources file).")
@click.option(
    "--urls",
    "urls_path",
    type=click.Path(path_type=Path),
    help="A file of article URLs, one a line, instead of the sources' listings.",
)
@click.option(
    "--reextract",
    is_flag=True,
    help="Extract the stored articles of the window again with the current rules "
    "(no fetching); their events are replaced and incidents recomputed.",
)
@click.option("--notify", is_flag=True, help="Run the digest afterwards and mail it.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes for fetch + extract (a local Dask cluster above 1) "
    "[env BASEWATCH_BACKFILL_WORKERS; 1].",
)
@SOURCES_OPTION
@click.pass_obj
def backfill(
    ctx: Context,
    since: str,
    until: str,
    source_name: str | None,
    urls_path: Path | None,
    reextract: bool,
    notify: bool,
    workers: int | None,
    sources_path: Path | None,
) -> None:
    """Fetch and store past articles published between --since and --until.

    Pages come from each source's backfill listings in the sources file (a WordPress-style
    paged feed, a sitemap, a GDELT query), or from --urls FILE. An interrupted backfill
    resumes when run again with the same options; a finished one run again adds nothing.
    Nothing is mailed unless --notify: what a quiet backfill finds is recorded as told, so
    the next digest does not present it as new.
    """
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    if first > last:
        raise UsageError(f"--since {first} is after --until {last}")
    if urls_path is not None and reextract:
        raise UsageError("--urls and --reextract do not go together")
    if urls_path is not None:
        if not urls_path.is_file():
            raise UsageError(f"{urls_path}: no such file")
        try:
            from flows.history import read_url_file

            read_url_file(urls_path)
        except BasewatchError as exc:
            raise UsageError(str(exc)) from None
        urls_path = urls_path.resolve()
    settings = _settings(ctx, sources_path)
    if workers is not None:
        settings = settings.model_copy(update={"backfill_workers": workers})
    if urls_path is None and not reextract:
        from flows.sources import load_sources

        try:
            names = {s.name: s.backfill for s in load_sources(settings.sources)}
        except BasewatchError as exc:
            _fail(exc, ctx.debug)
        if source_name is not None and source_name not in names:
            raise UsageError(f"--source: no source named {source_name!r} in {settings.sources}")
        if source_name is not None and names[source_name] is None:
            raise UsageError(f"--source: {source_name!r} has no backfill settings")
        if not any(names.values()):
            raise UsageError(f"no source in {settings.sources} has backfill settings")
    from flows.progress import showing

    with showing("backfill"):
        report = _run_flow(
            ctx,
            settings,
            "backfill",
            since=first,
            until=last,
            source=source_name,
            urls=str(urls_path) if urls_path else None,
            reextract=reextract,
            notify=notify,
        )
    click.echo(_backfill_summary(report))
    if report.digest is not None:
        click.echo(_digest_summary(report.digest, True))
    elif not notify:
        click.echo("no email sent (--notify mails the digest)")


def _settings(ctx: Context, sources_path: Path | None) -> Any:
    try:
        return ctx.settings(sources=sources_path)
    except BasewatchError as exc:
        _fail(exc, ctx.debug)


def _parse_datetime(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option}: not an ISO 8601 date or datetime ({value!r})") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"{option}: not a date, expected YYYY-MM-DD ({value!r})") from None


def _read_article(path: Path) -> str:
    """Return the text of a .txt file, or the main text of an .html page."""
    if path.suffix.lower() not in (".txt", ".html", ".htm"):
        raise UsageError(f"{path}: expected a .txt or .html file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, expected a .txt or .html file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    if b"\x00" in raw[:8192]:
        raise UsageError(f"{path}: binary file, expected text or HTML")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() in (".html", ".htm"):
        from extract.article import extract_page

        page = extract_page(text)
        return page.text if page else ""
    return text


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--published",
    required=True,
    help="Publication datetime, ISO 8601 "
    "(e.g. 2020-06-14T12:00:00+03:00); relative dates resolve against it.",
)
@click.option("--url", help="The article's URL (kept with the events).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "table"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.pass_obj
def extract(ctx: Context, path: Path, published: str, url: str | None, fmt: str) -> None:
    """Print the events in one article (a .txt or .html file); no database, no Prefect."""
    from extract.events import extract_events

    when = _parse_datetime(published, "--published")
    events = extract_events(_read_article(path), when, url)
    if fmt == "json":
        click.echo(
            json.dumps({"events": [e.to_dict() for e in events]}, indent=2, ensure_ascii=False)
        )
        return
    from reports.export import CSV_COLUMNS, event_row

    rows = [event_row(e.to_dict()) for e in events]
    # The export's columns, less the incident id and sources a lone article has none of.
    click.echo(_table(rows, [c for c in CSV_COLUMNS if c not in ("id", "sources")]))


def _table(rows: list[dict[str, str]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines.append("  ".join("-" * widths[c] for c in columns))
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _open_store(ctx: Context) -> Any:
    from extract.gazetteer import default_gazetteer
    from flows.store import open_store

    settings = _settings(ctx, None)
    try:
        return open_store(settings.resolved_database_url, default_gazetteer())
    except BasewatchError as exc:
        _fail(exc, ctx.debug)


@main.command()
@click.option("--since", help="First date (YYYY-MM-DD) of attacks to list.")
@click.option("--until", help="Last date (YYYY-MM-DD) of attacks to list.")
@click.option(
    "--format",
    "fmt",
    type=FORMAT_CHOICES,
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--all",
    "include_recalled",
    is_flag=True,
    help="Also list incidents known only from recalled mentions.",
)
@click.pass_obj
def events(
    ctx: Context, since: str | None, until: str | None, fmt: str, include_recalled: bool
) -> None:
    """Export stored incidents (merged events with their sources)."""
    first, last = _parse_date(since, "--since"), _parse_date(until, "--until")
    if first and last and first > last:
        raise UsageError(f"--since {first} is after --until {last}")
    from reports.export import event_row, incidents_csv, incidents_geojson

    store = _open_store(ctx)
    incidents = [i for i in store.incidents(first, last) if include_recalled or i.newsworthy]
    data = [i.to_dict() for i in incidents]
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(incidents_csv(data), nl=False)
    elif fmt == "geojson":
        click.echo(json.dumps(incidents_geojson(data), indent=2, ensure_ascii=False))
    else:
        click.echo(
            _table(
                [event_row(i) for i in data],
                [
                    "id",
                    "date",
                    "recent",
                    "site",
                    "country",
                    "type",
                    "munitions",
                    "killed",
                    "wounded",
                    "perpetrator",
                    "sources",
                ],
            )
        )


@main.command()
@click.pass_obj
def sources(ctx: Context) -> None:
    """Show each source's health: last success, last error, articles stored."""
    store = _open_store(ctx)
    rows = []
    for h in store.source_health():
        rows.append(
            {
                "source": h.name,
                "last success": h.last_success.strftime("%Y-%m-%d %H:%M")
                if h.last_success
                else "never",
                "failures": str(h.consecutive_failures),
                "last error": (h.last_error or "")[:80] if h.consecutive_failures else "",
                "articles": str(h.articles),
            }
        )
    click.echo(_table(rows, ["source", "last success", "failures", "articles", "last error"]))


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def sites(fmt: str) -> None:
    """List the site gazetteer."""
    from extract.gazetteer import default_gazetteer

    gazetteer = default_gazetteer()
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        **s.to_dict(),
                        "kind": s.kind,
                        "aliases": list(s.aliases),
                        "source": s.source,
                        "us_presence": [
                            {
                                "from": p.start.isoformat(),
                                "to": p.end.isoformat() if p.end else None,
                            }
                            for p in s.us_presence
                        ],
                    }
                    for s in gazetteer
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "country": s.country,
            "lat": f"{s.lat:.4f}",
            "lon": f"{s.lon:.4f}",
            "US presence": ", ".join(
                f"{p.start.year}-{p.end.year if p.end else ''}" for p in s.us_presence
            ),
        }
        for s in gazetteer
    ]
    click.echo(_table(rows, ["id", "name", "country", "lat", "lon", "US presence"]))


@main.group()
def subscribers() -> None:
    """Manage who receives the digest, and what each subscriber wants in it."""


def _preference_options(command: Any) -> Any:
    """Add the preference options shared by `subscribers add` and `subscribers set`."""
    from extract.model import ATTACK_TYPES
    from extract.preferences import CADENCES, FORMATS, SEVERITIES

    options = [
        click.option(
            "--country",
            "countries",
            multiple=True,
            help="ISO code of a country to hear about, e.g. IQ (repeat; 'all' for every one).",
        ),
        click.option(
            "--site",
            "sites",
            multiple=True,
            help="Gazetteer id of a site, see `basewatch sites` (repeat; 'all' for every one).",
        ),
        click.option(
            "--type",
            "attack_types",
            multiple=True,
            help=f"Attack type: {', '.join(ATTACK_TYPES)} (repeat; 'all' for every one).",
        ),
        click.option(
            "--severity",
            "min_severity",
            help=f"Minimum severity: {', '.join(SEVERITIES)} [any].",
        ),
        click.option(
            "--cadence",
            help=f"{', '.join(CADENCES)}: immediate adds an alert per new attack [daily].",
        ),
        click.option("--timezone", help="IANA timezone for the daily cut-off [UTC]."),
        click.option("--format", "fmt", help=f"Mail format: {', '.join(FORMATS)} [html]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _preferences(base: Any, **given: Any) -> Any:
    """Return base preferences with the given options applied; UsageError on a bad value."""
    from extract.preferences import make_preferences

    raw = base.to_dict()
    for key, value in given.items():
        if value not in (None, ()):
            raw["format" if key == "fmt" else key] = (
                list(value) if isinstance(value, tuple) else value
            )
    try:
        return make_preferences(**raw)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


@subscribers.command("add")
@click.argument("email")
@_preference_options
@click.pass_obj
def subscribers_add(ctx: Context, email: str, **options: Any) -> None:
    """Subscribe EMAIL, optionally with preferences (the default is everything, daily)."""
    from extract.preferences import Preferences
    from reports.deliver import validate_email

    try:
        address = validate_email(email)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    prefs = _preferences(Preferences(), **options)
    given = any(v not in (None, ()) for v in options.values())
    added = _open_store(ctx).add_subscriber(address, prefs if given else None)
    if added:
        click.echo(f"subscribed {address}")
    elif given:
        click.echo(f"{address} is already subscribed; change preferences with `subscribers set`")
    else:
        click.echo(f"{address} is already subscribed")


@subscribers.command("set")
@click.argument("email")
@_preference_options
@click.pass_obj
def subscribers_set(ctx: Context, email: str, **options: Any) -> None:
    """Change EMAIL's preferences; options not given keep their value."""
    store = _open_store(ctx)
    address = email.strip()
    current = store.subscriber_preferences(address)
    if current is None:
        raise click.ClickException(f"{address} is not subscribed")
    prefs = _preferences(current, **options)
    try:
        store.set_preferences(address, prefs)
    except BasewatchError as exc:
        _fail(exc, ctx.debug)
    click.echo(f"preferences of {address} saved")


@subscribers.command("remove")
@click.argument("email")
@click.pass_obj
def subscribers_remove(ctx: Context, email: str) -> None:
    """Unsubscribe EMAIL (its delivery history is kept)."""
    removed = _open_store(ctx).remove_subscriber(email.strip())
    if not removed:
        raise click.ClickException(f"{email.strip()} is not subscribed")
    click.echo(f"unsubscribed {email.strip()}")


@subscribers.command("list")
@click.pass_obj
def subscribers_list(ctx: Context) -> None:
    """List subscribers with their preferences."""
    from extract.preferences import describe_preferences

    rows = [
        {"email": address, **describe_preferences(prefs)}
        for address, prefs in _open_store(ctx).subscriber_list()
    ]
    columns = ["email", "cadence", "format", "timezone", "severity", "countries", "sites", "types"]
    if rows:  # nothing at all when there is no subscriber, for scripts
        click.echo(_table(rows, columns))


@main.command("eval")
@click.option(
    "--corpus",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tests/corpus"),
    show_default=True,
    help="Corpus folder holding dev/ and heldout/.",
)
@click.option(
    "--split",
    type=click.Choice(["dev", "heldout", "all"]),
    default="all",
    show_default=True,
    help="Which split to score.",
)
@click.option(
    "--failures",
    type=int,
    default=25,
    show_default=True,
    help="How many failures to list per split (0 for none).",
)
@click.option(
    "--floors",
    "floors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Check the figures against floors pinned in this JSON file; exit 1 below.",
)
@click.option(
    "--write-floors",
    is_flag=True,
    help="With --floors: rewrite the file with the figures reached, less a margin. "
    "Lowering a floor needs this explicit flag.",
)
@click.pass_obj
def eval_command(
    ctx: Context,
    corpus: Path,
    split: str,
    failures: int,
    floors_path: Path | None,
    write_floors: bool,
) -> None:
    """Score extraction on the labelled corpus: precision, recall, field accuracy, merging."""
    from flows.evaluate import SPLITS, check_floors, evaluate_split, format_scores, load_floors

    splits = SPLITS if split == "all" else (split,)
    problems: list[str] = []
    reached: dict[str, dict[str, float]] = {}
    floors = {}
    if floors_path and not write_floors:
        try:
            floors = load_floors(floors_path)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{floors_path}: cannot read floors ({exc})") from None
    for name in splits:
        try:
            scores = evaluate_split(corpus / name)
        except BasewatchError as exc:
            _fail(exc, ctx.debug)
        click.echo(format_scores(name, scores, failures))
        reached[name] = scores.figures()
        problems += check_floors(name, scores, floors.get(name, {}))
    if floors_path and write_floors:
        from flows.evaluate import floors_from

        floors_path.write_text(json.dumps(floors_from(reached), indent=2) + "\n", encoding="utf-8")
        click.echo(f"floors written to {floors_path}")
    if problems:
        for line in problems:
            click.echo(f"FAIL {line}", err=True)
        raise SystemExit(1)
    if floors:
        click.echo("all figures at or above their floors")


@main.command()
@SOURCES_OPTION
@click.pass_obj
def serve(ctx: Context, sources_path: Path | None) -> None:
    """Run the ingest and digest flows on their schedules until Ctrl-C.

    Schedules come from BASEWATCH_INGEST_CRON (default every 15 minutes),
    BASEWATCH_DIGEST_CRON (default 07:00) and BASEWATCH_TIMEZONE (default UTC). Without
    PREFECT_API_URL, a local Prefect server (with its UI) is started and stopped with it.
    """
    from contextlib import nullcontext

    from flows.sources import load_sources

    settings = _settings(ctx, sources_path)
    try:
        load_sources(settings.sources)  # fail now, not at the first scheduled run
    except BasewatchError as exc:
        _fail(exc, ctx.debug)
    # Scheduled runs read their settings from the environment of this process.
    os.environ["BASEWATCH_SOURCES"] = str(settings.sources.resolve())
    os.environ["BASEWATCH_DATA_DIR"] = str(settings.data_dir.resolve())
    if settings.database_url:
        os.environ["BASEWATCH_DATABASE_URL"] = settings.database_url
    _prepare_prefect(settings)
    from flows.serve import local_server, serve_deployments

    api_url = os.environ.get("PREFECT_API_URL")
    server = (
        nullcontext(api_url)
        if api_url
        else local_server(Path(os.environ["PREFECT_HOME"]) / "server.log")
    )
    try:
        with server as url:
            os.environ["PREFECT_API_URL"] = url  # before Prefect is imported below
            click.echo(
                f"serving basewatch-ingest ({settings.ingest_cron}) and basewatch-digest "
                f"({settings.digest_cron}), timezone {settings.timezone}; Prefect UI at "
                f"{url.removesuffix('/api')}; Ctrl-C to stop"
            )
            try:
                serve_deployments(settings)
            except KeyboardInterrupt:
                pass
    except BasewatchError as exc:
        _fail(exc, ctx.debug)
    click.echo("stopped")


@main.command()
@click.option("--host", help="Address to listen on [env BASEWATCH_WEB_HOST; 127.0.0.1].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port [env BASEWATCH_WEB_PORT; 8080; 0: any free].",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="One line per request on stderr [env BASEWATCH_WEB_ACCESS_LOG; off].",
)
@click.pass_obj
def web(ctx: Context, host: str | None, port: int | None, access_log: bool | None) -> None:
    """Serve the web app until Ctrl-C: incidents, digests, subscribe, preferences, unsubscribe.

    Mail links point at BASEWATCH_BASE_URL; the secret key that signs them and the forms'
    CSRF tokens is BASEWATCH_SECRET_KEY, else <data dir>/secret.key.
    """
    settings = _settings(ctx, None)
    host = host or settings.web_host
    port = settings.web_port if port is None else port
    access_log = settings.web_access_log if access_log is None else access_log
    from flows.web import create_app
    from flows.web.server import bind, make_server, url_of

    try:
        app = create_app(settings, _open_store(ctx))
        sock = bind(host, port)
    except BasewatchError as exc:
        _fail(exc, ctx.debug)
    with sock:
        click.echo(f"basewatch web: serving on {url_of(sock)} (Ctrl-C to stop)")
        try:
            make_server(app, access_log).run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # uvicorn has already shut down gracefully; it re-raises the signal
    click.echo("stopped")
