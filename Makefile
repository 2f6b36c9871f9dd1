# One command sets up from nothing and runs the main job; one sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BACKENDS_STAMP := $(VENV)/.backends-stamp
PYTEST_ARGS ?=
PYTEST := TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m pytest
# The JAX and torch passes: the suite less the slow models and what one backend's pass covers (single_backend),
# and less the CLI's subprocess tests (tests/keras/test_backends.py runs the CLI under each backend without TensorFlow).
BACKEND_SUBSET ?= -m "not slow and not single_backend" --ignore=tests/cli --ignore=tests/keras/test_determinism.py
# ... and a fifth of the fuzz test's random models (tests/keras/test_fuzz.py), which JAX runs op by op.
BACKEND_FUZZ_EXAMPLES ?= 40
# The keras-hub test zoo (tests/keras/test_keras_hub.py), installed without its declared dependencies (see below).
HUB_PACKAGES ?= keras-hub==0.32.0 regex tokenizers

.PHONY: demo test test-tensorflow test-jax test-torch check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# JAX and PyTorch, CPU builds (the backends extra); only the tests need them. And keras-hub, a test zoo: its
# declared dependencies pull tensorflow-text and the full 572 MB tensorflow wheel beside tensorflow-cpu; the
# vision backbones import with regex and tokenizers alone (about 9 s, 34 MB).
$(BACKENDS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[backends]'
	$(BIN)/python -m pip install --quiet --no-deps $(HUB_PACKAGES)
	touch $(BACKENDS_STAMP)

## demo: set up, convert keras.applications VGG16 (weights=None) to 1D, write and reload vgg16_1d.keras
demo: $(STAMP)
	$(BIN)/conv1dify convert VGG16 -o vgg16_1d.keras --force
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -c "import keras; m = keras.models.load_model('vgg16_1d.keras'); \
	print('reloaded', m.name, m.input_shape, '->', m.output_shape)" 2>/dev/null

## test: set up, then run the whole suite under TensorFlow and the backend subset under JAX and under PyTorch
test: test-tensorflow test-jax test-torch

test-tensorflow: $(BACKENDS_STAMP)
	KERAS_BACKEND=tensorflow $(PYTEST) $(PYTEST_ARGS)

test-jax test-torch: test-%: $(BACKENDS_STAMP)
	KERAS_BACKEND=$* CONV1DIFY_FUZZ_EXAMPLES=$(BACKEND_FUZZ_EXAMPLES) $(PYTEST) $(BACKEND_SUBSET) $(PYTEST_ARGS)

## bench: conversion cost of the six target models, memory, converted vs hand-written throughput, data transforms
## (about 12 min on 2 CPUs; `python -m benchmarks all` adds every keras.applications model); in benchmarks/results/
bench: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m benchmarks all --models targets

## check: lint and type-check
check: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache vgg16_1d.keras
