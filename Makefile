# salesbot: `make dev` runs the service with embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages: a Thai font for QR captions and slips, Chromium for the browser tests.
DEBS   := fonts-thai-tlwg fonts-noto-color-emoji chromium

export PYTHAINLP_OFFLINE ?= 1

.PHONY: dev test install system-deps bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(STAMP)

system-deps:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

dev: install system-deps
	$(BIN)/salesbot db upgrade
	$(BIN)/salesbot catalog load --if-empty
	$(BIN)/salesbot dev

test: install system-deps
	$(BIN)/pytest

bench: install  # every benchmark; figures and how to read them: docs/benchmarks.md
	$(BIN)/python bench/search.py
	$(BIN)/python bench/slips.py --count 300 --seed 1
	$(BIN)/python bench/promptpay.py
	$(BIN)/python bench/intents.py
	$(BIN)/python bench/mcp_tools.py
	$(BIN)/python bench/conversation.py --customers 10
	$(BIN)/python bench/llm.py
	$(BIN)/python bench/llm_conversation.py
	$(BIN)/python bench/webhook.py

clean:
	rm -rf $(VENV) var/*.db
