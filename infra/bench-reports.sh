#!/usr/bin/env bash
# Reporting speed: 1,000,000 processed records (generated and scored by `vigil demo`,
# archived as NDJSON), then the original query and each report query timed with
# `vigil query` beside the DuckDB CLI (PyPI duckdb-cli) on the same files, and the whole
# `vigil report`. Each figure is the best of 3 runs of a fresh process that prints the full
# result as CSV (to /dev/null). A benchmark, not a test.
# Usage: infra/bench-reports.sh [COUNT]   (default 1000000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$VIGIL_ROOT"
count=${1:-1000000}
DUCKDB_VERSION="1.5.6"
bench_venv="$VIGIL_CACHE/venv-bench"

"$VIGIL_ROOT/infra/setup.sh"
if [ ! -x "$bench_venv/bin/duckdb" ]; then
  step "DuckDB CLI $DUCKDB_VERSION (PyPI duckdb-cli) into $bench_venv"
  python3 -m venv "$bench_venv"
  "$bench_venv/bin/pip" install -q --disable-pip-version-check "duckdb-cli==$DUCKDB_VERSION"
fi
duckdb="$bench_venv/bin/duckdb"
step "Building vigil"
cargo build --release --quiet --bin vigil
vigil="$CARGO_TARGET_DIR/release/vigil"
work="${VIGIL_BENCH_DIR:-$VIGIL_CACHE/bench-reports-$count}"
if [ ! -d "$work/archive/processed" ]; then
  step "Generating, scoring and archiving $count transactions"
  "$vigil" demo --count "$count" --seed 42 --documents 0 --out "$work" 2>/dev/null | tail -n 3
fi
archive="$work/archive/processed"
note "$(find "$archive" -name '*.json' | wc -l) files, $(du -sh "$archive" | cut -f1) of NDJSON"

# DuckDB reads the same files with the same column types; Presto names it lacks are given
# as macros or renamed (cardinality → len, approx_percentile → approx_quantile).
columns="{transaction_amt: 'DOUBLE', email_address: 'VARCHAR', ip_address: 'VARCHAR', transaction_currency: 'VARCHAR', event_id: 'VARCHAR', entity_id: 'VARCHAR', event_time: 'VARCHAR', billing_longitude: 'VARCHAR', billing_state: 'VARCHAR', user_agent: 'VARCHAR', billing_street: 'VARCHAR', billing_city: 'VARCHAR', card_bin: 'VARCHAR', customer_name: 'VARCHAR', product_category: 'VARCHAR', customer_job: 'VARCHAR', phone: 'VARCHAR', billing_latitude: 'VARCHAR', billing_zip: 'VARCHAR', fd: 'STRUCT(outcome VARCHAR, model_scores MAP(VARCHAR, DOUBLE), rule_results STRUCT(rule VARCHAR, outcomes VARCHAR[])[], reasons VARCHAR[], ttdf BIGINT, proc_time BIGINT, frauddetector_time BIGINT)'}"
prelude="CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ); CREATE VIEW txn_processedtxns AS SELECT * FROM read_ndjson('$archive/dt=*/*.json', hive_partitioning = true, columns = $columns);"
duck_sql() { sed -e 's/cardinality(/len(/g' -e 's/approx_percentile(/approx_quantile(/g' -e 's/;[[:space:]]*$//' <<<"$1"; }

best() { # best of 3 wall-clock seconds of "$@"
  local best=""
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "FAILED"; return; }
    t1=$(date +%s.%N)
    best=$(python3 -c "t=$t1-$t0; b='$best'; print(f'{min(t, float(b)) if b else t:.3f}')")
  done
  echo "$best"
}

queries=$("$vigil" report --sql)
span_sql="SELECT CAST(min(from_iso8601_timestamp(event_time)) AS timestamp) AS first_event, CAST(max(from_iso8601_timestamp(event_time)) AS timestamp) AS last_event, count(*) AS transactions FROM txn_processedtxns"

step "Queries over $count records (seconds, best of 3)"
printf '%-20s %10s %10s %8s\n' query vigil duckdb ratio
run_pair() {
  local name=$1 sql=$2
  local v d
  v=$(best "$vigil" query --data "$work" "$sql")
  d=$(best "$duckdb" -c "$prelude COPY ($(duck_sql "$sql")) TO '/dev/null' (FORMAT csv, HEADER);")
  printf '%-20s %10s %10s %8s\n' "$name" "$v" "$d" "$(python3 -c "print(f'{$v/$d:.2f}x')" 2>/dev/null || echo -)"
}
run_pair span "$span_sql"
while IFS=$'\t' read -r name sql; do
  run_pair "$name" "$sql"
done <<<"$queries"

step "The whole report (vigil report: every query, the charts, the page)"
report_t=$(best "$vigil" report --data "$work" --out "$work/report-bench")
all_duck="$prelude"
while IFS=$'\t' read -r name sql; do
  [ "$name" = original ] && continue
  all_duck="$all_duck COPY ($(duck_sql "$sql")) TO '/dev/null' (FORMAT csv, HEADER);"
done <<<"$queries"
all_duck="$all_duck COPY ($(duck_sql "$span_sql")) TO '/dev/null' (FORMAT csv, HEADER);"
duck_t=$(best "$duckdb" -c "$all_duck")
printf 'vigil report: %s s (target < 5 s); DuckDB, the same queries in one process (no charts): %s s\n' "$report_t" "$duck_t"
