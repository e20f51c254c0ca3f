#!/bin/sh
# Runs the authwire benchmarks (-count 6, about 15 minutes on 2 cores) and
# summarises them with benchstat. Usage: benchmarks/run.sh [extra go test flags]
# The raw output is kept in benchmarks/bench.txt (override with OUT=path).
set -eu
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/bench.txt}
count=${COUNT:-6}

if ! command -v benchstat >/dev/null 2>&1; then
	PATH="$(go env GOPATH)/bin:$PATH"
	if ! command -v benchstat >/dev/null 2>&1; then
		go install golang.org/x/perf/cmd/benchstat@latest
	fi
fi

{
	echo "# go version: $(go version)"
	echo "# nproc: $(nproc)"
	echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out"
go test -run '^$' -bench . -benchmem -count "$count" -timeout 60m "$@" ./benchmarks/ | tee -a "$out"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"

echo
echo "== benchstat (all)"
benchstat "$out"
echo
echo "== cache hit: authwire vs oauth2.ReuseTokenSource"
benchstat -filter '.name:CacheHit' -col /impl "$out"
echo
echo "== per-request overhead, by stack"
benchstat -filter '.name:Overhead' -col /via -row /req "$out"
echo
echo "== 2206 storm, by client"
benchstat -filter '.name:ThrottleStorm' -col /via "$out"
echo
echo "== paired (ABBA) time and exact allocations, stack vs bare"
benchstat -filter '.name:Paired' -row /req,/via -col /measure "$out"
echo
echo "== large bodies, by stack"
benchstat -filter '.name:BodyCopy' -col /via -row /size "$out"
echo
echo "== what each layer adds to a GET (every row in one loop, against bare)"
benchstat -filter '.name:Layers' "$out"
