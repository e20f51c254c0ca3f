#!/usr/bin/env bash
# Runs every fuzz target for a short fixed time, one target per `go test`
# invocation (go test -fuzz accepts one target and one package at a time).
# FUZZTIME overrides the per-target time (default 10s). Exits non-zero on the
# first failure; a crasher is written to the package's testdata/fuzz/ directory.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10s}"
targets=(
	"FuzzScanMatchesMap ./outcome"
	"FuzzClassify ./providers/nxcloud"
	"FuzzClassify ./providers/icekredit"
	"FuzzClassify ./providers/vertexplay"
	"FuzzServer ./providers/nxcloud/nxcloudtest"
	"FuzzServer ./providers/icekredit/icekredittest"
	"FuzzServer ./providers/vertexplay/vertexplaytest"
)
for t in "${targets[@]}"; do
	read -r name pkg <<<"$t"
	echo "== fuzz $name $pkg ($fuzztime)"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done
