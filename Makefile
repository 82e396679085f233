# q4m_fast: everyday tasks. From a fresh clone, `make demo` and `make test` do everything
# (system packages, virtualenv, engine build, private server).
#
#   make deps          Debian packages (apt, sudo if not root) + .venv with the project
#   make engine        build/engine/libqueue_engine.so (scripts/q4m-server build)
#   make test          deps + engine + pytest tests and the benchmarks' smoke run
#                      (PYTEST_ARGS="-x -k wait" to narrow)
#   make demo          deps + engine + private server + python -m q4m_fast.demo
#   make bench         deps + engine + the benchmarks (BENCH=library|engine for one)
#   make server-start / server-stop / server-status   (PORT=3307, SYNC=on|off)

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
SERVER := scripts/q4m-server
PORT   ?= 3307
# queue_sync for server-start/demo; empty = the engine's default (on)
SYNC   ?=
PYTEST_ARGS ?=
DEMO_ARGS   ?=

# Installed when pyproject.toml does not exist yet (it declares the `test` extra).
FALLBACK_PIP := mysqlclient pytest pytest-timeout pytest-benchmark pymysql cython

STAMP := $(VENV)/.q4m-deps-stamp
SYNC_OPT = $(if $(SYNC),--sync $(SYNC))

.PHONY: deps system-deps engine test demo bench server-start server-stop server-status clean

deps: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps

# Re-run pip only when the project's packaging changed (or the venv is new).
$(STAMP): $(wildcard pyproject.toml setup.py setup.cfg src/q4m_fast/*.pyx) | system-deps
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@if [ -f pyproject.toml ]; then \
	    echo "pip install -e '.[test]'"; $(VENV)/bin/pip install -q -e '.[test]'; \
	else \
	    echo "no pyproject.toml yet: pip install $(FALLBACK_PIP)"; \
	    $(VENV)/bin/pip install -q $(FALLBACK_PIP); \
	fi
	@touch $@

engine:
	@$(SERVER) build

test: deps engine
	$(VENV)/bin/pytest tests benchmarks/test_smoke.py $(PYTEST_ARGS)

bench: deps engine
	@$(VENV)/bin/python -c "import matplotlib" 2>/dev/null || $(VENV)/bin/pip install -q -e '.[bench]'
	@case "$(or $(BENCH),all)" in all|library) \
	    echo "$(VENV)/bin/pytest benchmarks/bench_library.py"; \
	    $(VENV)/bin/pytest benchmarks/bench_library.py -p no:cacheprovider --benchmark-group-by=group \
	        --benchmark-sort=name --benchmark-columns=min,median,max,rounds $(PYTEST_ARGS) || exit $$?;; esac; \
	case "$(or $(BENCH),all)" in all|engine) \
	    echo "$(VENV)/bin/python benchmarks/engine_bench.py $(BENCH_ARGS)"; \
	    $(VENV)/bin/python benchmarks/engine_bench.py $(BENCH_ARGS) || exit $$?;; esac

# Starts the server on $(PORT) unless it is already running, and stops it again
# afterwards only if it was started here.
demo: deps engine
	@was_running=0; $(SERVER) status --port $(PORT) >/dev/null 2>&1 && was_running=1; \
	dsn=$$($(SERVER) start --port $(PORT) $(SYNC_OPT) | tail -n 1) || exit 1; \
	dsn=$${dsn#Q4M_DSN=}; \
	echo "$(VENV)/bin/python -m q4m_fast.demo --dsn $$dsn $(DEMO_ARGS)"; \
	status=0; $(VENV)/bin/python -m q4m_fast.demo --dsn "$$dsn" $(DEMO_ARGS) || status=$$?; \
	[ $$was_running = 1 ] || $(SERVER) stop --port $(PORT); \
	exit $$status

server-start:
	@$(SERVER) start --port $(PORT) $(SYNC_OPT)

server-stop:
	@$(SERVER) stop --port $(PORT)

server-status:
	@$(SERVER) status --port $(PORT)

# The MariaDB cache (~/.cache/q4m-fast) and server datadirs (.q4m-server/) are kept.
clean:
	rm -rf build
