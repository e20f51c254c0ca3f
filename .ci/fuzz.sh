#!/usr/bin/env bash
# Runs every fuzz target for a fixed number of executions, one target per
# `go test` invocation (go test -fuzz accepts one target and one package at a
# time). FUZZTIME overrides the per-target budget (default 100000x, a few
# seconds each here). Exits non-zero on the first failure; a crasher is written
# to the package's testdata/fuzz/ directory.
#
# The budget is a count, not a duration: with a duration, Go 1.26's fuzzing
# coordinator can report "context deadline exceeded" as a failure when the
# time runs out while a worker is busy (Go issue 75804, fixed in Go 1.27),
# which made this script fail now and then with no crasher.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-100000x}"
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
