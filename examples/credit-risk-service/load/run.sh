#!/usr/bin/env bash
# Load test of the prediction endpoint on loopback with wrk, for a bounded
# time, in three configurations: prediction and access logs on; prediction
# log off; both off. Prints requests per second and p50/p99 latency for each,
# and checks the log against wrk's own count of 2xx responses: every answered
# prediction has its "Prediction requested." and "Prediction created." records
# (none lost at exit), and no more than the requests still in flight when wrk
# stopped (at most one per connection) were logged beyond that.
#
#   examples/credit-risk-service/load/run.sh            # 20 s per configuration
#   DURATION=5s CONNECTIONS=16 examples/credit-risk-service/load/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PORT=${PORT:-18080}
LOAD_DIR=examples/credit-risk-service/load

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is needed (Debian/Ubuntu: apt-get install wrk)" >&2
    exit 1
fi
cargo build --quiet --release -p credit-risk-service
BINARY=target/release/credit-risk-service
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

wait_until_listening() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "the service did not start on port $PORT" >&2
    return 1
}

# count FILE MESSAGE: records with that message.
count() { grep -c "\"message\":\"$2\"" "$1" || true; }

printf '%-34s %10s %10s %10s %10s\n' configuration "req/s" "p50" "p99" "non-2xx"
run() {
    local name=$1 prediction_logging=$2 access_logging=$3
    local log="$WORK/$name.log" report="$WORK/$name.wrk"
    HTTP_HOST=127.0.0.1 HTTP_PORT=$PORT PREDICTION_LOGGING=$prediction_logging ACCESS_LOGGING=$access_logging \
        "$BINARY" >"$log" &
    local pid=$!
    wait_until_listening
    BODY_FILE="$LOAD_DIR/application.json" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$LOAD_DIR/prediction.lua" "http://127.0.0.1:$PORT/api/models/credit_risk_model/prediction" >"$report"
    kill -TERM "$pid"
    wait "$pid"
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$report")
    p50=$(awk '$1 == "50%" {print $2}' "$report")
    p99=$(awk '$1 == "99%" {print $2}' "$report")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$report")
    printf '%-34s %10s %10s %10s %10s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}"

    local requested created handled total answered
    requested=$(count "$log" "Prediction requested.")
    created=$(count "$log" "Prediction created.")
    handled=$(count "$log" "Request handled.")
    # wrk: "N requests in 20.00s, ..." and "Non-2xx or 3xx responses: M".
    total=$(awk '/ requests in / {print $1}' "$report")
    answered=$((total - ${non2xx:-0}))
    if [ "$prediction_logging" = on ]; then
        if [ "$created" -lt "$answered" ]; then
            echo "  MISMATCH: $created prediction records for $answered 2xx responses counted by wrk" >&2
            exit 1
        fi
        if [ "$created" -gt $((answered + CONNECTIONS)) ]; then
            echo "  MISMATCH: $created prediction records, more than wrk's $answered 2xx responses + $CONNECTIONS in flight" >&2
            exit 1
        fi
        if [ "$requested" != "$created" ]; then
            echo "  MISMATCH: $requested requested, $created created" >&2
            exit 1
        fi
        echo "  records: $requested requested + $created created for $answered 2xx responses counted by wrk ($((created - answered)) answered after wrk stopped; $handled access records)"
    elif [ "$requested" != 0 ]; then
        echo "  MISMATCH: prediction records with prediction logging off" >&2
        exit 1
    fi
}

run "prediction log + access log" on on
run "access log only" off on
run "no logging" off off

# The monitoring loop at volume: predictions and their outcomes, then
# `evaluate` joins them from the log alone and reports the join rate.
loop_log="$WORK/loop.log"
HTTP_HOST=127.0.0.1 HTTP_PORT=$PORT "$BINARY" >"$loop_log" &
pid=$!
wait_until_listening
BODY_FILE="$LOAD_DIR/application.json" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
    -s "$LOAD_DIR/outcome_loop.lua" "http://127.0.0.1:$PORT/" >"$WORK/loop.wrk"
kill -TERM "$pid"
wait "$pid"
"$BINARY" evaluate --json "$loop_log" >"$WORK/loop.json"
python3 - "$WORK/loop.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
rate = e["with_outcome"] / max(e["predictions"], 1)
print(f'monitoring loop: {e["predictions"]} predictions, {e["with_outcome"]} joined to an outcome '
      f'({rate:.1%}), {e["without_outcome"]} without (in flight when wrk stopped), '
      f'{e["orphan_outcomes"]} orphan, {e["duplicate_outcomes"]} duplicate')
if e["orphan_outcomes"] or e["duplicate_outcomes"]:
    sys.exit("  MISMATCH: every outcome refers to a logged prediction, once")
PY
