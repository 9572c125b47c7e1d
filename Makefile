# Convenience wrapper around CMake presets (see CMakePresets.json).
#
#   make test                 # configure + build + test the dev preset
#   make test PRESET=release  # same with another preset
#   make run ARGS='--port 8080'

JOBS   ?= 2
PRESET ?= dev
ARGS   ?=

BUILD_DIR  := build/$(PRESET)
DEPS_STAMP := build/.deps-stamp

# Benchmark binaries (relative to build/release/bin) run in order by `make bench`.
BENCHES    ?= corral-bench-lifecycle corral-bench-api corral-bench-qemu
BENCH_ARGS ?= --benchmark_min_time=0.5

.PHONY: help deps configure build test bench lint asan tsan docs clean run

help:
	@echo "Usage: make <target> [PRESET=$(PRESET)] [JOBS=$(JOBS)] [ARGS=...]"
	@echo
	@echo "Targets:"
	@echo "  help       Show this help"
	@echo "  deps       Install Debian build dependencies (scripts/install-deps; stamped)"
	@echo "  configure  Configure build/\$$PRESET with 'cmake --preset' (skipped if already configured)"
	@echo "  build      Build the preset and link build/bin/corral to its binary"
	@echo "  test       Build, then run ctest --preset \$$PRESET"
	@echo "  bench      Build the release preset and run the benchmarks listed in BENCHES"
	@echo "  lint       Run clang-format (check only) and clang-tidy (scripts/lint)"
	@echo "  asan       make test PRESET=asan (AddressSanitizer + UBSan)"
	@echo "  tsan       make test PRESET=tsan (ThreadSanitizer)"
	@echo "  docs       Build, then render state diagrams into docs/ (scripts/render-docs)"
	@echo "  clean      Remove build/"
	@echo "  run        Build, then run 'build/bin/corral server \$$ARGS'"

deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/install-deps
	scripts/install-deps
	@mkdir -p $(dir $@)
	@touch $@

configure: deps
	@if [ -f $(BUILD_DIR)/build.ninja ]; then \
	  echo "configure: $(BUILD_DIR) already configured (cmake re-runs itself when needed)"; \
	else \
	  echo "cmake --preset $(PRESET)"; \
	  cmake --preset $(PRESET); \
	fi

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)
	@mkdir -p build/bin
	ln -sfn ../$(PRESET)/bin/corral build/bin/corral

test: build
	ctest --preset $(PRESET)

bench:
	$(MAKE) build PRESET=release
	@for b in $(BENCHES); do \
	  bin=build/release/bin/$$b; \
	  if [ -x "$$bin" ]; then \
	    echo "== $$bin $(BENCH_ARGS)"; \
	    "$$bin" $(BENCH_ARGS) || exit $$?; \
	  else \
	    echo "bench: $$bin not found (not built yet?), skipping"; \
	  fi; \
	done

lint: deps
	scripts/lint

asan:
	$(MAKE) test PRESET=asan

tsan:
	$(MAKE) test PRESET=tsan

docs: build
	scripts/render-docs

clean:
	rm -rf build

run: build
	build/bin/corral server $(ARGS)
