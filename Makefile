# Newcomer's entry points: `make run` (set up, build the offline model, start the demo) and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
MODEL := models/yolov3-tiny-coco.onnx

.PHONY: setup model run test lint bench system-packages
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -e '.[dev]'
	touch $@

$(MODEL): | setup
	$(BIN)/clearway model install-default

model: $(MODEL)

run: setup model
	$(BIN)/clearway keys demo
	$(BIN)/clearway users demo
	$(BIN)/clearway serve --host 127.0.0.1 --port 8000

# The Debian packages the suite needs (ffmpeg, Chromium, GStreamer, poppler...): installed when root, named
# otherwise, so the suite runs them rather than skipping (scripts/system-packages.sh).
system-packages:
	scripts/system-packages.sh

test: system-packages setup model
	$(BIN)/pytest -n auto

lint: setup
	$(BIN)/ruff check service tests bench datasets
	$(BIN)/ruff format --check service tests bench datasets
	$(BIN)/hadolint Dockerfile

bench: setup model
	$(BIN)/python bench/pipeline_bench.py
