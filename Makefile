# One command sets up from nothing and runs the main job; one sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BACKENDS_STAMP := $(VENV)/.backends-stamp
PYTEST_ARGS ?=
# --no-compile: Python writes the bytecode of a module when it is first imported; compiling every module of
# TensorFlow, JAX and torch at install time wrote 0.56 GB that the tests mostly never read (CI disk: docs/backends.md).
PIP_INSTALL := -m pip install --quiet --no-compile
PYTEST := TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m pytest
# The TensorFlow pass runs with oneDNN off: TensorFlow turns it on by default on some CPUs only, and a few kernels
# (a DepthwiseConv2D with unequal strides) exist only there, so a test that needs them fails on every machine, not
# on some. Both settings are supported: `make test-tensorflow ONEDNN=1`.
ONEDNN ?= 0
# Two test processes (pytest-xdist): the suite is mostly Python building graphs, which one process runs on one core.
WORKERS ?= 2
# The JAX and PyTorch passes cover what differs between backends: layer numerics against the 2D layers, weight
# identities, data transforms in keras.ops, raw ops, saving and loading, the CLI without TensorFlow, whole-net
# verification and random models. `make test-jax-full` / `test-torch-full` run the broader subset CI ran before
# (everything but the slow, single-backend and subprocess tests).
BACKEND_TESTS ?= tests/keras/test_backends.py tests/core/test_weights.py tests/keras/test_family_conv_reshaping.py \
	tests/keras/test_family_norm_preproc.py tests/test_data.py tests/keras/test_orders.py tests/keras/test_ops.py \
	tests/keras/test_recurrent.py tests/keras/test_verify.py tests/keras/test_fuzz.py
BACKEND_SUBSET ?= -m "not slow and not single_backend"
BACKEND_FULL ?= $(BACKEND_SUBSET) --ignore=tests/cli --ignore=tests/keras/test_determinism.py
# The fuzz test's random models (tests/keras/test_fuzz.py) from its fixed seed: 120 under TensorFlow (the test's own
# default is 200, for a local run), and a sixth of them under JAX and PyTorch, which JAX runs op by op.
FUZZ_EXAMPLES ?= 120
BACKEND_FUZZ_EXAMPLES ?= 20
# The keras-hub test zoo (tests/keras/test_keras_hub.py), installed without its declared dependencies (see below).
HUB_PACKAGES ?= keras-hub==0.32.0 regex tokenizers

# The PyTorch frontend (conv1dify.torch, tests/torch) has its own venv and torch build (the torch extra): timm needs
# torchvision, whose wheels the registry serves for Linux are CUDA builds that do not import beside the backends
# extra's CPU torch ("operator torchvision::nms does not exist"), and TensorFlow loaded in one process with the CUDA
# build's triton crashes it. The frontend and the numpy data helpers never import Keras (tests/torch/
# test_torch_optional.py), so this venv holds conv1dify without Keras and TensorFlow: the package with --no-deps,
# then its other dependencies, the dev extra's test tools and the torch extra, read from pyproject.toml. About
# 2.5 min and 5.5 GB instead of 7.1 (torch 2.14.1 runs on the CPU; docs/torch.md): CI machines' free disk varies,
# and a CI run once stopped here on a full disk.
TORCH_VENV ?= .venv-torch
TORCH_STAMP := $(TORCH_VENV)/.installed-stamp
TORCH_REQUIREMENTS := "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
	x = p['optional-dependencies']; keep = lambda rs, names: [r for r in rs if not r.startswith(names)]; \
	print(*keep(p['dependencies'], ('keras', 'tensorflow')), *keep(x['dev'], ('ruff', 'mypy')), *x['torch'], sep='\n')"

.PHONY: demo test test-tensorflow test-jax test-torch test-jax-full test-torch-full test-pytorch test-pytorch-fast \
	check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_INSTALL) -e '.[dev]'
	touch $(STAMP)

# JAX and PyTorch, CPU builds (the backends extra); only the tests need them. And keras-hub, a test zoo: its
# declared dependencies pull tensorflow-text and the full 572 MB tensorflow wheel beside tensorflow-cpu; the
# vision backbones import with regex and tokenizers alone (about 9 s, 34 MB). The export extra (LiteRT, ONNX;
# tests/keras/test_export.py) changes no installed version (about 10 s, 180 MB).
$(BACKENDS_STAMP): $(STAMP)
	$(BIN)/python $(PIP_INSTALL) -e '.[backends,export]'
	$(BIN)/python $(PIP_INSTALL) --no-deps $(HUB_PACKAGES)
	touch $(BACKENDS_STAMP)

$(TORCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/python -c $(TORCH_REQUIREMENTS) > $(TORCH_VENV)/requirements.txt
	$(TORCH_VENV)/bin/python $(PIP_INSTALL) -r $(TORCH_VENV)/requirements.txt
	$(TORCH_VENV)/bin/python $(PIP_INSTALL) --no-deps -e .
	touch $(TORCH_STAMP)

## demo: set up, convert keras.applications VGG16 (weights=None) to 1D, write and reload vgg16_1d.keras
demo: $(STAMP)
	$(BIN)/conv1dify convert VGG16 -o vgg16_1d.keras --force
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -c "import keras; m = keras.models.load_model('vgg16_1d.keras'); \
	print('reloaded', m.name, m.input_shape, '->', m.output_shape)" 2>/dev/null

## test: set up, then run the whole suite under TensorFlow and the backend subset under JAX and under PyTorch
test: test-tensorflow test-jax test-torch test-pytorch

test-tensorflow: $(BACKENDS_STAMP)
	TF_ENABLE_ONEDNN_OPTS=$(ONEDNN) KERAS_BACKEND=tensorflow CONV1DIFY_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) \
	-n $(WORKERS) --ignore=tests/torch $(PYTEST_ARGS)

test-jax test-torch: test-%: $(BACKENDS_STAMP)
	KERAS_BACKEND=$* CONV1DIFY_FUZZ_EXAMPLES=$(BACKEND_FUZZ_EXAMPLES) $(PYTEST) -n $(WORKERS) $(BACKEND_SUBSET) \
	$(BACKEND_TESTS) $(PYTEST_ARGS)

## test-jax-full, test-torch-full: the broader backend subset (about 20 min under JAX on 2 CPUs)
test-jax-full test-torch-full: test-%-full: $(BACKENDS_STAMP)
	KERAS_BACKEND=$* CONV1DIFY_FUZZ_EXAMPLES=$(BACKEND_FUZZ_EXAMPLES) $(PYTEST) -n $(WORKERS) $(BACKEND_FULL) \
	$(PYTEST_ARGS)

## test-pytorch: the PyTorch frontend in its own venv, every zoo family (about 3 min on 2 CPUs); test-pytorch-fast:
## the 12 families marked not slow
test-pytorch: $(TORCH_STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(TORCH_VENV)/bin/python -m pytest -n $(WORKERS) tests/torch $(PYTEST_ARGS)

test-pytorch-fast: $(TORCH_STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(TORCH_VENV)/bin/python -m pytest -n $(WORKERS) -m "not slow" tests/torch $(PYTEST_ARGS)

## bench: conversion cost of the six target models, memory, converted vs hand-written throughput, data transforms
## (about 12 min on 2 CPUs; `python -m benchmarks all` adds every keras.applications model); in benchmarks/results/
bench: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m benchmarks all --models targets

## check: lint and type-check
check: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TORCH_VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache vgg16_1d.keras
