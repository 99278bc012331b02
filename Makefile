# Shortcuts; every target bootstraps uv like the README's commands.
UV = python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore uv && uv run --frozen --quiet

.PHONY: run test eval bench bench-mail

run:   ## the main job on the bundled offline sample
	$(UV) basewatch run --sources seeds/sources.yaml

test:  ## the whole test suite (what .ci/run runs)
	$(UV) pytest

eval:  ## extraction quality on the labelled corpus, checked against the pinned floors
	$(UV) basewatch eval --floors tests/eval_floors.json

bench: ## extraction speed; polling 50 unchanged feeds; backfill vs a bare loop at 500-2,000 pages
	$(UV) python benchmarks/extraction.py
	@echo
	$(UV) python benchmarks/operations.py

bench-mail: ## digest mail for 500 subscribers through a local SMTP server, in mails per second
	$(UV) python benchmarks/mail.py
