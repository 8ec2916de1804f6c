PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-pg lint fuzz bench catalogs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# the demo key signs unsubscribe links; a real site sets its own secret
DEMO_ENV := SYNDICATE_SECRET=$${SYNDICATE_SECRET:-demo-secret-not-for-production}

demo: $(STAMP)
	@$(DEMO_ENV) $(BIN)/syndicate run --once
	@$(BIN)/syndicate status
	@echo
	@echo "feeds:   $(CURDIR)/feeds/index.html  (and feeds/*.rss, *.atom, *.json, each feed's page *.html, feeds.opml)"
	@newest=$$(ls -t outbox/new 2>/dev/null | head -n 1); \
	  if [ -n "$$newest" ]; then echo "digest:  $(CURDIR)/outbox/new/$$newest  (a Maildir: mutt -f outbox)"; \
	  else echo "digest:  no new edition (nothing new since the last one): see $(CURDIR)/outbox"; fi
	@echo "serve:   $(DEMO_ENV) $(BIN)/syndicate serve"
	@echo "         then open http://127.0.0.1:8080/  (feeds index with the sign-up form; archive:"
	@echo "         http://127.0.0.1:8080/digests/daily/); the confirmation mail lands in outbox/ too,"
	@echo "         and the links in the mails lead to serve (serve.public_url in schedule.yaml)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

# the same suite against PostgreSQL: tests/pg_server.py starts a throwaway server from
# Debian's postgresql binaries, and each test gets a database of its own (tests/conftest.py)
test-pg: $(STAMP)
	SYNDICATE_TEST_STORE=postgresql $(BIN)/python -m pytest -q

# the property tests of tests/test_fuzz.py with thousands of examples, not CI's few dozen
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:logging tests/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

# the gettext catalogs (docs/i18n.md): extract the marked strings into the .pot, merge
# them into every language's .po, compile the .mo files (syndicate compiles a missing
# or stale .mo in memory too, so this is for translators, not a build step)
LOCALES := syndicate/locale
catalogs: $(STAMP)
	$(BIN)/pybabel --quiet extract -F babel.cfg --no-location --sort-by-file \
	  --project=syndicate --copyright-holder="the syndicate authors" \
	  -o $(LOCALES)/syndicate.pot .
	$(BIN)/pybabel --quiet update -D syndicate -i $(LOCALES)/syndicate.pot -d $(LOCALES) \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --statistics -D syndicate -d $(LOCALES)

clean:
	rm -rf var outbox feeds/*.rss feeds/*.atom feeds/*.json feeds/*.opml feeds/*.html \
	  feeds/feed.css feeds/feed.xsl feeds/tags feeds/snippets feeds/digests
