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
ASAN_VENV := .venv-asan
FUZZ_BUILD := build-fuzz
# `make fuzz` runs each target this long (override: make fuzz FUZZ_SECONDS=3600); `make test`
# runs each for FUZZ_SMOKE_SECONDS.
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 10

.PHONY: demo test setup venv build ctest pytest asan asan-pytest typecheck bench clean fuzz fuzz-build fuzz-smoke

demo: setup venv
	$(PY) -m pip install -q .
	$(PY) examples/approval.py
	cmake -S . -B $(DEMO_BUILD) -G Ninja -DGP_BUILD_TESTS=OFF -DGP_BUILD_BENCH=OFF > /dev/null
	cmake --build $(DEMO_BUILD) -j $(JOBS) --target gp_embed
	$(DEMO_BUILD)/examples/gp_embed

test: setup venv build ctest pytest typecheck asan asan-pytest fuzz-smoke
	@echo "make test: all suites passed"

setup:
	bash scripts/setup-system.sh

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "pytest>=7" "mypy>=1.8" ninja "componentize-py>=0.25,<0.26" "hypothesis>=6.90"
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

# Component sources (examples/components, tests/components) import the bindings componentize-py
# generates at build time; they are checked by being built and run (tests/python/test_components.py).
typecheck: venv
	$(PY) -m mypy --strict --exclude '^(examples|tests)/components/' python/golem_promise examples tests/python tests/wit bench

# The C and C++ suites once more under AddressSanitizer + UndefinedBehaviorSanitizer (without
# the huge-payload tests, label "huge": slow there, and RSS would count the sanitizers' shadow
# memory; the plain ctest runs them).
asan:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DGP_SANITIZE=ON -DGP_BUILD_TESTS=ON -DGP_BUILD_EXAMPLES=ON \
	  -DGP_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure --no-tests=error -j $(JOBS) -E install -LE huge

# The Python suites once more, against the extension module built with the same sanitizers.
# The interpreter is not built with them, so ASan's runtime is preloaded; PYTHONMALLOC=malloc
# lets ASan see the objects Python allocates too; leak checks are off (an interpreter leaves
# objects to the OS at exit by design).  Child processes the tests start inherit all of it.
$(ASAN_VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/python -m pip install -q --upgrade pip
	$(ASAN_VENV)/bin/python -m pip install -q "pytest>=7" "componentize-py>=0.25,<0.26" "hypothesis>=6.90"
	touch $@

# libstdc++ is preloaded too, or ASan cannot find the C++ runtime's throw in a process whose
# program (python) does not link it.  Reports go to files (pytest captures stderr, and a
# report ends the process), printed when the run fails.
asan-pytest: $(ASAN_VENV)/.stamp
	$(ASAN_VENV)/bin/python -m pip install -q . --config-settings=cmake.define.GP_SANITIZE=ON \
	  --config-settings=cmake.build-type=RelWithDebInfo --config-settings=build-dir=$(ASAN_BUILD)/py-{wheel_tag}
	rm -f $(ASAN_BUILD)/pytest-report.*
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libstdc++.so)" \
	  PYTHONMALLOC=malloc \
	  ASAN_OPTIONS=detect_leaks=0:log_path=$(CURDIR)/$(ASAN_BUILD)/pytest-report \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/$(ASAN_BUILD)/pytest-report \
	  $(ASAN_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/python tests/wit \
	  || { cat $(ASAN_BUILD)/pytest-report.* 2>/dev/null; exit 1; }
	@if ls $(ASAN_BUILD)/pytest-report.* > /dev/null 2>&1; then cat $(ASAN_BUILD)/pytest-report.*; exit 1; fi

# libFuzzer targets (fuzz/), with clang and ASan + UBSan, the whole library instrumented.
fuzz-build:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DGP_FUZZ=ON -DGP_BUILD_TESTS=OFF \
	  -DGP_BUILD_EXAMPLES=OFF -DGP_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: setup fuzz-build
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	bash scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS)

bench: setup venv
	$(PY) -m pip install -q .
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(DEMO_BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-bench $(VENV) $(ASAN_VENV)
