# Yiwang: `make demo` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
YIWANG := $(VENV)/bin/yiwang
VENDOR_STAMP := src/yiwang/web/static/vendor/.stamp
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install assets messages demo serve worker test test-only test-pg lint format bench chromium clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed assets messages

$(VENDOR_STAMP): package.json package-lock.json scripts/vendor.py
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/vendor.py
	touch $@

assets: $(VENV)/.installed $(VENDOR_STAMP)

# Compiled catalogues are committed; recompile when msgfmt is at hand so edits take effect.
messages: $(VENV)/.installed
	@if command -v msgfmt >/dev/null 2>&1 && test -d src/yiwang/locale; then \
		$(YIWANG) compilemessages -v 0 --ignore '.venv/*' --ignore 'node_modules/*'; fi

demo: install
	$(YIWANG) demo

serve: install
	$(YIWANG) serve

worker: install
	$(YIWANG) worker

chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		(echo "installing Debian's chromium for the browser tests"; \
		 apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

test: install chromium test-only

test-only:
	$(YIWANG) makemigrations --check --dry-run --skip-checks > /dev/null || \
		(echo "models changed without a migration: run $(YIWANG) makemigrations"; exit 1)
	$(VENV)/bin/pytest -n 2 --dist loadfile

test-pg: install chromium
	DATABASE_URL=$(PG_URL) $(MAKE) test-only

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/ruff check src tests bench scripts

format: $(VENV)/.installed
	$(VENV)/bin/ruff format src tests bench scripts
	$(VENV)/bin/ruff check --fix src tests bench scripts

bench: install
	$(PY) bench/geo.py

clean:
	rm -rf $(VENV) node_modules var src/yiwang/web/static/vendor
