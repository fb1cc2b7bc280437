# salesbot: `make dev` runs the service with embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BIND   ?= 127.0.0.1:8000
# Debian packages: a Thai font (and emoji) for QR captions and covers; Chromium for the browser tests only.
SERVICE_DEBS := fonts-thai-tlwg fonts-noto-color-emoji
TEST_DEBS    := $(SERVICE_DEBS) chromium

export PYTHAINLP_OFFLINE ?= 1

.PHONY: dev test lint install install-test bench journeys clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# apt-get only for what is missing; as a non-root user through sudo
define debian_packages
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

dev: install
	$(call debian_packages,$(SERVICE_DEBS))
	$(BIN)/salesbot db upgrade
	$(BIN)/salesbot catalog load --if-empty
	$(BIN)/salesbot dev --bind $(BIND)

test: install-test
	$(call debian_packages,$(TEST_DEBS))
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install-test  # every benchmark; figures and how to read them: docs/benchmarks.md
	$(BIN)/python bench/search.py
	$(BIN)/python bench/slips.py --count 300 --seed 1
	$(BIN)/python bench/promptpay.py
	$(BIN)/python bench/intents.py
	$(BIN)/python bench/mcp_tools.py
	$(BIN)/python bench/conversation.py --customers 10
	$(BIN)/python bench/llm.py
	$(BIN)/python bench/llm_conversation.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/backoffice.py

journeys: install  # every bundled customer journey, in-process (a few minutes); see README "Testing your shop with journeys"
	$(BIN)/salesbot eval journeys tests/data/journeys

clean:
	rm -rf $(VENV) var/*.db
