# `make test` and `make demo` each set themselves up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench bench-gpu bench-scale lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench examples)

test: $(STAMP) lint
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/tapegrad demo

# make bench ARGS="--no-peers" (or --markdown, --only mlp,import, --rounds 21): options of bench/run.py
bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

# The Dask example at full size: 800 MB of rows on a LocalCluster of 2 workers capped at 300 MB (a few minutes).
bench-scale: $(STAMP)
	$(BIN)/python bench/bench_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# logistic regression 2,000,000 x 100 and the MLP at batch 4096 on CuPy (and PyTorch, when installed);
# prints "no GPU: skipped" and succeeds where there is no CUDA GPU
bench-gpu: $(STAMP)
	$(BIN)/python bench/bench_gpu.py
