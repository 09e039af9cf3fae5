# The two commands a newcomer runs: `make demo` and `make test`.  Each installs what it needs
# (Debian packages via apt-get, Python packages via pip into .venv) and then builds and runs.
# Each build directory is configured by one target only, and every option that differs between
# them is passed explicitly, so running one command never changes what the other builds.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JOBS ?= $(shell nproc)
BUILD := build
DEMO_BUILD := build-demo
ASAN_BUILD := build-asan

.PHONY: demo test setup venv build ctest pytest asan typecheck bench clean

demo: setup venv
	$(PY) -m pip install -q .
	$(PY) examples/approval.py
	cmake -S . -B $(DEMO_BUILD) -G Ninja -DGP_BUILD_TESTS=OFF -DGP_BUILD_BENCH=OFF > /dev/null
	cmake --build $(DEMO_BUILD) -j $(JOBS) --target gp_embed
	$(DEMO_BUILD)/examples/gp_embed

test: setup venv build ctest pytest typecheck asan
	@echo "make test: all suites passed"

setup:
	bash scripts/setup-system.sh

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "pytest>=7" "mypy>=1.8" ninja
	touch $@

venv: $(VENV)/.stamp

build:
	cmake -S . -B $(BUILD) -G Ninja -DGP_BUILD_TESTS=ON -DGP_BUILD_EXAMPLES=ON -DGP_BUILD_BENCH=ON
	cmake --build $(BUILD) -j $(JOBS)

# --no-tests=error: a build without tests must fail here, not pass with nothing run.
ctest: build
	ctest --test-dir $(BUILD) --output-on-failure --no-tests=error -j $(JOBS)

pytest: venv
	$(PY) -m pip install -q .
	$(PY) -m pytest -q tests/python tests/wit

typecheck: venv
	$(PY) -m mypy --strict python/golem_promise examples tests/python tests/wit bench

# The C and C++ suites once more under AddressSanitizer + UndefinedBehaviorSanitizer (without
# the huge-payload tests, label "huge": slow there, and RSS would count the sanitizers' shadow
# memory; the plain ctest runs them).
asan:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DGP_SANITIZE=ON -DGP_BUILD_TESTS=ON -DGP_BUILD_EXAMPLES=ON \
	  -DGP_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure --no-tests=error -j $(JOBS) -E install -LE huge

bench: setup venv
	$(PY) -m pip install -q .
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(DEMO_BUILD) $(ASAN_BUILD) build-bench $(VENV)
