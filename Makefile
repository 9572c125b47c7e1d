# Convenience wrapper around CMake presets (see CMakePresets.json).
#
#   make test                 # configure + build + test the dev preset, then the sanitizer runs
#   make test PRESET=release  # same with another preset (no sanitizer runs)
#   make test SANITIZE=0      # the dev preset's tests only
#   make fuzz FUZZ_SECONDS=3600  # the request fuzzer for an hour (default 60 s; 30 s in make test)
#   make mutate               # mutation testing of the lifecycle tables (also in make test)
#   make run ARGS='--port 8080'

JOBS   ?= 2
PRESET ?= dev
ARGS   ?=

SANITIZE ?= 1
# What runs under ThreadSanitizer: the concurrent parts (engine, store, drivers).
TSAN_TESTS := engine_test store_test sim_driver_test qemu_driver_test

# libFuzzer: clang 16 (clang 14 cannot compile <expected>; see fuzz/CMakeLists.txt).
FUZZ_CXX          ?= clang++-16
FUZZ_SECONDS      ?= 60
FUZZ_TEST_SECONDS ?= 30
FUZZ_DIR          := build/fuzz
FUZZ_TARGET       := corral-fuzz-requests
FUZZ_ARGS         ?=

BUILD_DIR  := build/$(PRESET)
DEPS_STAMP := build/.deps-stamp

# Benchmark binaries (relative to build/release/bin) run in order by `make bench`.
BENCHES    ?= corral-bench-lifecycle corral-bench-sched corral-bench-wire corral-bench-agents corral-bench-api corral-bench-qemu corral-bench-cluster corral-bench-migrate corral-bench-migrate-cold corral-bench-network corral-bench-openstack
BENCH_ARGS ?= --benchmark_min_time=0.5

# The longer crash-consistency run (`make soak`, also at the end of `make bench`).
SOAK_KILLS ?= 100
SOAK_OPS   ?= 10000

# Mutation testing (src/lifecycle/mutate): MUTATE_ARGS passes options (--verbose lists the
# equivalent mutants, --only data|views, --jobs N).
MUTATE_ARGS ?= --jobs $(JOBS)

.PHONY: help deps configure build test sanitize fuzz mutate bench soak lint asan tsan docs clean run

help:
	@echo "Usage: make <target> [PRESET=$(PRESET)] [JOBS=$(JOBS)] [ARGS=...]"
	@echo
	@echo "Targets:"
	@echo "  help       Show this help"
	@echo "  deps       Install Debian build dependencies (scripts/install-deps; stamped)"
	@echo "  configure  Configure build/\$$PRESET with 'cmake --preset' (skipped if already configured)"
	@echo "  build      Build the preset and link build/bin/corral to its binary"
	@echo "  test       Build, then run ctest --preset \$$PRESET; for dev, then 'sanitize'"
	@echo "  sanitize   Every test under ASan+UBSan; engine/store/driver tests under TSan"
	@echo "  fuzz       Build fuzz/ with clang, run the request fuzzer for \$$FUZZ_SECONDS (60) s"
	@echo "  mutate     Every single-edit mutant of the lifecycle tables and views vs the golden checks"
	@echo "  bench      Build the release preset, run BENCHES and the dashboard's (web/bench), then soak"
	@echo "  soak       Crash consistency, longer: SOAK_KILLS SIGKILLs, SOAK_OPS operations (release)"
	@echo "  lint       Run clang-format (check only) and clang-tidy (scripts/lint)"
	@echo "  asan       make test PRESET=asan (AddressSanitizer + UBSan)"
	@echo "  tsan       make test PRESET=tsan (ThreadSanitizer)"
	@echo "  docs       Build, then render state diagrams into docs/ (scripts/render-docs)"
	@echo "  clean      Remove build/"
	@echo "  run        Build, then run 'build/bin/corral server --default-network 10.77.0.0/24 \$$ARGS'"

deps: $(DEPS_STAMP)

$(DEPS_STAMP): scripts/install-deps web/package-lock.json
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
	@case "$(PRESET)" in asan|tsan) ;; *) ln -sfn ../$(PRESET)/bin/corral build/bin/corral ;; esac

test: build
	ctest --preset $(PRESET)
ifeq ($(PRESET)$(SANITIZE),dev1)
	$(MAKE) mutate
	$(MAKE) sanitize
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)
endif

# ASan+UBSan run every test but three of the four sim crash-matrix parties (CMakePresets.json:
# their 6 minutes of held phases and link cuts run the controller's recovery code the
# controller-SIGKILL party runs under ASan too, and the dev run covers them all) and the
# dashboard's browser test (it tests the page; the server paths it drives have their own).
sanitize: deps
	$(MAKE) test PRESET=asan SANITIZE=0
	$(MAKE) configure PRESET=tsan
	cmake --build --preset tsan -j $(JOBS) --target $(TSAN_TESTS)
	@for t in $(TSAN_TESTS); do \
	  echo "== TSan: $$t"; \
	  build/tsan/bin/$$t --gtest_brief=1 || exit $$?; \
	done

# The request fuzzer (fuzz/), for FUZZ_SECONDS. libFuzzer writes new inputs to the first
# corpus dir only: $(FUZZ_DIR)/corpus/requests, kept between runs so that a long run builds on
# the earlier ones; the seeds in fuzz/corpus/requests are only read. A finding fails the
# target and is saved in $(FUZZ_DIR)/artifacts/; replay it with `$(FUZZ_DIR)/$(FUZZ_TARGET)
# FILE`. FUZZ_ARGS passes more libFuzzer flags (e.g. -jobs=2, -max_len=70000). Shown: the
# "pulse" lines (at 2^n runs), the final figures and any finding; the full log, with a line
# for each input that adds coverage (thousands a minute), is $(FUZZ_DIR)/fuzz.log.
fuzz: SHELL := /bin/bash
fuzz: deps
	@if [ -f $(FUZZ_DIR)/build.ninja ]; then \
	  echo "fuzz: $(FUZZ_DIR) already configured"; \
	else \
	  echo "cmake -S fuzz -B $(FUZZ_DIR) -G Ninja -DCMAKE_CXX_COMPILER=$(FUZZ_CXX)"; \
	  cmake -S fuzz -B $(FUZZ_DIR) -G Ninja -DCMAKE_CXX_COMPILER=$(FUZZ_CXX); \
	fi
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	@mkdir -p $(FUZZ_DIR)/corpus/requests $(FUZZ_DIR)/artifacts
	set -o pipefail; \
	$(FUZZ_DIR)/$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 -print_funcs=0 -dict=fuzz/requests.dict \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_ARGS) \
	  $(FUZZ_DIR)/corpus/requests fuzz/corpus/requests 2>&1 | \
	  tee $(FUZZ_DIR)/fuzz.log | grep --line-buffered -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE) '

# Each mutant must be rejected by a golden check (src/lifecycle/golden); survivors fail it.
mutate: configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target corral-mutate
	$(BUILD_DIR)/bin/corral-mutate $(MUTATE_ARGS)

# The benches measure Corral beside its peers: libvirt is installed here (never for `make run`
# or `make test`, which do not need it).
bench:
	scripts/install-deps --with-libvirt
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
	CORRAL_BIN=build/release/bin/corral node web/bench/dashboard.bench.mjs
	$(MAKE) soak

soak:
	$(MAKE) build PRESET=release
	CORRAL_CRASH_KILLS=$(SOAK_KILLS) CORRAL_CRASH_OPS=$(SOAK_OPS) \
	  build/release/bin/integration_test --gtest_filter='CrashTest.*:CrashPhases.*'

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

# The network "default" on first start, so `corral run tiny` prints a real address.
run: build
	build/bin/corral server --default-network 10.77.0.0/24 $(ARGS)
