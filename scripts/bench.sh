#!/usr/bin/env bash
# Functions only reached via traps look unreachable to shellcheck:
# shellcheck disable=SC2317
#
# Bench: gavel measured against reference floors, in one run on this machine, on the
# same private PostgreSQL and Redis (scripts/with-services.sh starts them unless
# DATABASE_URL / REDIS_URL are set). The private PostgreSQL keeps its durable settings
# (fsync, synchronous_commit, full_page_writes on), as production runs it; gavel's bid
# runs report CPU time per decided bid in gavel and in PostgreSQL (from /proc).
#
#   1. Builds the release binaries (gavel, gavel-loadgen, gavel-hello).
#   2. Starts gavel (GAVEL_RATE_LIMIT=0, RUST_LOG=warn, a generated admin token, a free
#      port on 127.0.0.1) and samples its RSS every 0.5 s for the whole run; starts
#      gavel-hello, the bare HTTP floor.
#   3. BENCH_ROUNDS interleaved rounds of:
#        gavel `bids` (closed loop) | pgbench doing one bid per transaction on the same
#        PostgreSQL (conditional update of a random auction's highest + INSERT INTO bids)
#        | gavel-hello `GET /hello` (closed loop)
#      medians over the rounds are reported.
#   4. Once each: gavel `bids-hopeless`, `bids-hot`, `get`, `list` (closed loop), then
#      `bids` open loop at half the median closed-loop bids rate.
#      Then `bids` spread over two and three gavel instances on the one PostgreSQL.
#   5. Optionally (BENCH_SOAK_SECONDS > 0) a long open-loop `bids` run at that half rate,
#      with gavel's RSS at its start, middle and end.
#   6. Prints a table, the ratios against their targets and gavel's peak RSS; writes
#      every run's JSON line to target/bench/<timestamp>.jsonl (RSS samples beside it).
#
# Env: BENCH_SECONDS      measured seconds per run (default 10)
#      BENCH_ROUNDS       interleaved rounds (default 3)
#      BENCH_CONNECTIONS  closed-loop connections and pgbench clients (default 64)
#      BENCH_WARMUP       warm-up seconds before each measurement (default 2; 1 when
#                         BENCH_SECONDS < 5)
#      BENCH_SOAK_SECONDS long half-rate bids run while RSS is sampled (default 0: off)
#      BENCH_BUILD        0 to skip the cargo build and use target/release as it is
#
# Smoke check of this script: BENCH_SECONDS=2 BENCH_ROUNDS=1 scripts/bench.sh
#
# Everything it starts is stopped on exit, also on Ctrl-C. All load goes to 127.0.0.1.
set -euo pipefail
shopt -s inherit_errexit # a failing command inside $(...) fails the script too

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${1:-}" != --inner ]]; then
    if [[ "${BENCH_BUILD:-1}" != 0 ]]; then
        SQLX_OFFLINE=true cargo build --release \
            --bin gavel --bin gavel-loadgen --bin gavel-hello >&2
    fi
    # PostgreSQL at its durable settings, as production runs it.
    GAVEL_PG_DURABLE=1 exec scripts/with-services.sh scripts/bench.sh --inner
fi

# ------------------------------------------------------------------ inside --

SVC_LOG_TAG=bench # read by services.sh
# shellcheck source-path=SCRIPTDIR source=services.sh
source scripts/services.sh # svc_alive, svc_wait_gone

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

int_env() { # NAME DEFAULT MIN: a non-negative integer setting
    local v=${!1:-$2}
    if [[ ! "$v" =~ ^[0-9]+$ ]] || ((10#$v < $3)); then
        die "$1 must be an integer >= $3 (got '$v')"
    fi
    printf '%d\n' "$((10#$v))"
}
secs=$(int_env BENCH_SECONDS 10 1)
rounds=$(int_env BENCH_ROUNDS 3 1)
conns=$(int_env BENCH_CONNECTIONS 64 1)
soak=$(int_env BENCH_SOAK_SECONDS 0 0)
if ((secs < 5)); then warmup=$(int_env BENCH_WARMUP 1 0); else warmup=$(int_env BENCH_WARMUP 2 0); fi

[[ -n "${DATABASE_URL:-}" ]] || die "DATABASE_URL is not set"
for bin in gavel gavel-loadgen gavel-hello; do
    [[ -x target/release/$bin ]] || die "target/release/$bin missing (build it, or unset BENCH_BUILD=0)"
done
pg_tool() { # the PostgreSQL client tool $1: next to the server first, then on PATH
    if [[ -n "${GAVEL_TEST_PG_BIN:-}" && -x "$GAVEL_TEST_PG_BIN/$1" ]]; then
        printf '%s\n' "$GAVEL_TEST_PG_BIN/$1"
    else
        command -v "$1" || die "$1 not found (it comes with PostgreSQL's client package)"
    fi
}
PSQL=$(pg_tool psql)
PGBENCH=$(pg_tool pgbench)

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out_dir=target/bench
mkdir -p "$out_dir"
jsonl=$out_dir/$stamp.jsonl
rss_file=$out_dir/$stamp.rss.tsv
gavel_log=$out_dir/$stamp.gavel.log
work=$(mktemp -d "${TMPDIR:-/tmp}/gavel-bench.XXXXXX")
: >"$jsonl"

# ----------------------------------------------------------------- cleanup --

gavel_pid='' hello_pid='' sampler_pid=''
extra_pids=() # more gavel instances, for the scaling runs

stop() { # PID: TERM, then KILL after 10 s; reaped
    local pid=$1
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    svc_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    stop "$sampler_pid"
    sampler_pid=''
    stop "$hello_pid"
    hello_pid=''
    if [[ -n "$gavel_pid" ]] && ((rc != 0)) && [[ -s "$gavel_log" ]]; then
        log "gavel's last log lines ($gavel_log):"
        tail -n 20 "$gavel_log" >&2
    fi
    stop "$gavel_pid"
    gavel_pid=''
    for pid in "${extra_pids[@]}"; do stop "$pid"; done
    rm -rf -- "$work"
    return "$rc"
}
trap cleanup EXIT
trap 'trap - INT; log "interrupted"; exit 130' INT
trap 'trap - TERM; exit 143' TERM

# ----------------------------------------------------------------- helpers --

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 20000))
        port_in_use "$p" || {
            printf '%d\n' "$p"
            return 0
        }
    done
    die "no free TCP port found"
}

# First value of "KEY": in a flat-enough JSON line (numbers, null, plain strings).
jget() {
    local v
    v=$(grep -o "\"$2\":[^,}]*" <<<"$1" | head -n1 | cut -d: -f2-) || true
    v=${v//\"/}
    printf '%s\n' "${v:-null}"
}

median() { # numbers as arguments
    printf '%s\n' "$@" | awk '/^-?[0-9.]+$/' | sort -g | awk '
        { a[NR] = $1 }
        END { if (NR == 0) print "null"; else if (NR % 2) print a[(NR + 1) / 2];
              else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "null") print "null"; else printf "%.2f\n", a / b }'; }

# Gavel's VmRSS every 0.5 s: epoch seconds, KiB.
sample_rss() {
    local pid=$1 key val _
    printf 'epoch_s\trss_kib\n'
    while svc_alive "$pid"; do
        val=''
        while read -r key val _; do
            [[ "$key" == VmRSS: ]] && break
        done <"/proc/$pid/status" 2>/dev/null || break
        [[ -n "$val" ]] && printf '%s\t%s\n' "$EPOCHREALTIME" "$val"
        sleep 0.5
    done
}

vm_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$gavel_pid/status" 2>/dev/null || echo null; }

# RSS sample nearest to epoch $1.
rss_at() {
    awk -v t="$1" 'NR > 1 { d = $1 - t; if (d < 0) d = -d; if (best == "" || d < best) { best = d; v = $2 } }
                   END { print (v == "" ? "null" : v) }' "$rss_file"
}

# Percent of all CPUs busy over 0.5 s, from /proc/stat.
cpu_busy() {
    local -a a b
    read -r -a a </proc/stat
    sleep 0.5
    read -r -a b </proc/stat
    awk -v a="${a[*]:1:8}" -v b="${b[*]:1:8}" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        for (i = 1; i <= 8; i++) t += y[i] - x[i]
        idle = (y[4] - x[4]) + (y[5] - x[5])
        printf "%d\n", (t > 0 ? 100 * (t - idle) / t : 0) }'
}

# Before each measurement: CHECKPOINT (so the last run's dirty pages are not written
# during this one) and wait, at most 10 s, until the machine is quiet (< 20 % CPU), so
# the after-effects of one run (autovacuum, pgbench's exiting backends) stay out of the
# next. Busy all along (someone else's build?): measure anyway, but say so.
settle() {
    local busy i
    psql_q "CHECKPOINT" >/dev/null 2>&1 || true
    for ((i = 0; i < 20; i++)); do
        busy=$(cpu_busy)
        ((busy < 20)) && return 0
    done
    log "warning: the machine stayed ${busy}% busy; measuring anyway (figures may be low)"
}

# gavel-loadgen LABEL SECONDS ARGS...: runs it, keeps its JSON line, prints it.
loadgen() {
    local label=$1 seconds=$2 line
    shift 2
    settle
    log "run: $label"
    line=$(target/release/gavel-loadgen --label "$label" --seconds "$seconds" \
        --warmup-seconds "$warmup" "$@")
    printf '%s\n' "$line" >>"$jsonl"
    printf '%s\n' "$line"
}

# CPU time per decided request, in gavel and in PostgreSQL (the postmaster and its
# backends), from /proc; PostgreSQL only when its data directory is readable here.
cpu_args=()
gavel_run() { loadgen "$1" "$secs" --url "$gavel_url" "${cpu_args[@]}" "${@:2}"; }

# ---------------------------------------------------------------- services --

GAVEL_ADMIN_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export GAVEL_ADMIN_TOKEN # read by gavel and by gavel-loadgen (never on a command line)

gavel_port=$(free_port)
gavel_url=http://127.0.0.1:$gavel_port
PORT=$gavel_port GAVEL_BIND=127.0.0.1 GAVEL_RATE_LIMIT=0 RUST_LOG=warn \
    target/release/gavel serve >"$gavel_log" 2>&1 &
gavel_pid=$!
sample_rss "$gavel_pid" >"$rss_file" &
sampler_pid=$!
log "gavel pid $gavel_pid on $gavel_url (log $gavel_log)"

hello_port=$(free_port)
while ((hello_port == gavel_port)); do hello_port=$(free_port); done
target/release/gavel-hello --port "$hello_port" >"$work/hello.log" 2>&1 &
hello_pid=$!
hello_url=http://127.0.0.1:$hello_port

# ------------------------------------------------------- pgbench baseline --

psql_q() { "$PSQL" "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -tA -c "$1"; }

# gavel migrates at start-up: wait for its tables.
for ((i = 0; ; i++)); do
    [[ "$(psql_q "SELECT to_regclass('public.bids') IS NOT NULL" 2>/dev/null)" == t ]] && break
    svc_alive "$gavel_pid" || die "gavel exited at start-up"
    ((i < 600)) || die "gavel did not create its tables within 60 s"
    sleep 0.1
done

cpu_args=(--cpu "gavel=$gavel_pid")
pg_data=$(psql_q "SHOW data_directory" 2>/dev/null) || pg_data=''
if [[ -r "$pg_data/postmaster.pid" ]]; then
    cpu_args+=(--cpu "postgres=$(head -n1 "$pg_data/postmaster.pid")")
else
    log "warning: PostgreSQL's data directory is not readable here: no CPU figure for it"
fi
durability=$(psql_q "SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' ||
    current_setting('synchronous_commit') || ' full_page_writes=' || current_setting('full_page_writes')")
log "PostgreSQL: $durability"

pg_bidder=$(psql_q "INSERT INTO bidders (name, api_key_hash, webhook_secret)
    VALUES ('pgbench', decode(md5(random()::text || clock_timestamp()::text), 'hex'), 'pgbench')
    RETURNING id")
IFS='|' read -r aid_lo aid_hi aid_n < <(psql_q "WITH a AS (
    INSERT INTO auctions (title, kind, currency, reserve_price, min_increment, extend_secs,
                          starts_at, ends_at)
    SELECT 'pgbench ' || g, 'english', 'USD', 1.00, 0.05, 0, now(), now() + interval '7 days'
    FROM generate_series(1, 100) g RETURNING id)
    SELECT min(id), max(id), count(*) FROM a")
[[ -n "${aid_n:-}" ]] || die "could not create the pgbench auctions"
((aid_hi - aid_lo + 1 == aid_n)) || die "pgbench auctions are not contiguous ids"

# One bid, as one transaction: the conditional update of the auction's running highest
# (open auctions only), then the bid row.
cat >"$work/bid.sql" <<'SQL'
\set aid random(:aid_lo, :aid_hi)
BEGIN;
UPDATE auctions
   SET highest_amount = COALESCE(highest_amount + min_increment, reserve_price),
       highest_bidder_id = :bidder_id,
       bid_count = bid_count + 1
 WHERE id = :aid AND cancelled_at IS NULL AND closed_at IS NULL
   AND starts_at <= now() AND ends_at > now()
RETURNING highest_amount AS amount \gset
INSERT INTO bids (auction_id, bidder_id, amount) VALUES (:aid, :bidder_id, :amount);
COMMIT;
SQL

# pgbench LABEL: warm-up + measured seconds; only transactions that end after the
# warm-up count (from its per-transaction log), as with gavel-loadgen.
pgbench_run() {
    local label=$1 prefix=$work/$1 rc=0 stats line
    settle
    log "run: $label"
    "$PGBENCH" -n -M prepared -c "$conns" -j 2 -T "$((warmup + secs))" -f "$work/bid.sql" \
        -D aid_lo="$aid_lo" -D aid_hi="$aid_hi" -D bidder_id="$pg_bidder" \
        -l --log-prefix="$prefix" "$DATABASE_URL" >"$prefix.out" 2>&1 || rc=$?
    ((rc == 0)) || { log "pgbench exited $rc:"; tail -n 5 "$prefix.out" >&2; }
    # Log lines: client tx latency_us script epoch_s epoch_us (completion time).
    stats=$(cat "$prefix".[0-9]* 2>/dev/null | awk -v warm="$warmup" -v lat="$prefix.lat" '
        $3 ~ /^[0-9]+$/ { n++; e[n] = $5 + $6 / 1e6; l[n] = $3
                          s = e[n] - $3 / 1e6; if (n == 1 || s < t0) t0 = s }
        END { ws = t0 + warm; m = 0; last = ws
              for (i = 1; i <= n; i++) if (e[i] >= ws) { m++; print l[i] > lat; if (e[i] > last) last = e[i] }
              printf "%d %.3f\n", m, last - ws }')
    read -r tx dur <<<"${stats:-0 0}"
    [[ -s "$prefix.lat" ]] || : >"$prefix.lat"
    read -r p50 p90 p99 p999 pmax < <(sort -n "$prefix.lat" | awk '
        { a[NR] = $1 }
        function q(p,  i) { i = int(NR * p + 0.999999); if (i < 1) i = 1; return a[i] / 1000 }
        END { if (NR == 0) print "0 0 0 0 0"; else printf "%.3f %.3f %.3f %.3f %.3f\n", q(0.5), q(0.9), q(0.99), q(0.999), a[NR] / 1000 }')
    local failed reported tps
    failed=$(awk -F': ' '/number of failed transactions/ { split($2, f, " "); print f[1] }' "$prefix.out")
    reported=$(awk '/^tps = / { print $3; exit }' "$prefix.out")
    tps=$(awk -v n="$tx" -v d="$dur" 'BEGIN { printf "%.1f", (d > 0 ? n / d : 0) }')
    line=$(printf '{"label":"%s","workload":"pgbench-bid","mode":"closed","connections":%d,"rate":null,"total_requests":%d,"duration_ms":%d,"requests_per_second":%s,"decided_per_second":%s,"success_count":%d,"error_count":%d,"success_rate":%s,"exit_code":%d,"pgbench_reported_tps":%s,"latency_ms":{"p50":%s,"p90":%s,"p99":%s,"p999":%s,"max":%s}}' \
        "$label" "$conns" "$tx" "$(awk -v d="$dur" 'BEGIN { printf "%d", d * 1000 }')" "$tps" "$tps" \
        "$tx" "${failed:-0}" "$([[ $tx -gt 0 ]] && echo 1.0 || echo 0.0)" "$rc" "${reported:-null}" \
        "$p50" "$p90" "$p99" "$p999" "$pmax")
    rm -f "$prefix".[0-9]* "$prefix.lat"
    printf '%s\n' "$line" >>"$jsonl"
    printf '%s\n' "$line"
}

# ------------------------------------------------------------------- runs --

log "$rounds round(s) of ${secs}s (+${warmup}s warm-up) each, $conns connections; JSON lines in $jsonl"
bids_rps=() bids_decided=() bids_p99=() bids_cpu_gavel=() bids_cpu_pg=() pg_tps=() pg_p99=() hello_rps=() hello_p99=()
for ((r = 1; r <= rounds; r++)); do
    j=$(gavel_run "bids-r$r" --workload bids --connections "$conns")
    bids_rps+=("$(jget "$j" requests_per_second)")
    bids_decided+=("$(jget "$j" decided_per_second)")
    bids_p99+=("$(jget "$j" p99)")
    bids_cpu_gavel+=("$(jget "$j" cpu_gavel_us_per_decided)")
    bids_cpu_pg+=("$(jget "$j" cpu_postgres_us_per_decided)")
    j=$(pgbench_run "pgbench-bid-r$r")
    pg_tps+=("$(jget "$j" requests_per_second)")
    pg_p99+=("$(jget "$j" p99)")
    j=$(loadgen "hello-r$r" "$secs" --workload hello --url "$hello_url" --connections "$conns")
    hello_rps+=("$(jget "$j" requests_per_second)")
    hello_p99+=("$(jget "$j" p99)")
done

for w in bids-hopeless bids-hot get list; do
    j=$(gavel_run "$w" --workload "$w" --connections "$conns")
    if [[ "$w" == get ]]; then get_json=$j; fi
done

half_rate=$(awk -v r="$(median "${bids_rps[@]}")" 'BEGIN { h = int(r / 2); print (h < 1 ? 1 : h) }')
open_json=$(gavel_run bids-open --workload bids --rate "$half_rate" --connections "$conns")

# The same bids spread over one, two and three gavel instances on the one PostgreSQL
# (the first figure is the rounds' median; CPU summed over the instances).
scale_urls=() scale_json=()
for n in 2 3; do
    port=$(free_port)
    PORT=$port GAVEL_BIND=127.0.0.1 GAVEL_RATE_LIMIT=0 RUST_LOG=warn \
        target/release/gavel serve >"$gavel_log.$n" 2>&1 &
    extra_pids+=("$!")
    cpu_args+=(--cpu "gavel=$!")
    scale_urls+=(--also-url "http://127.0.0.1:$port")
    for ((i = 0; i < 100; i++)); do
        PORT=$port GAVEL_BIND=127.0.0.1 target/release/gavel healthcheck 2>/dev/null && break
        sleep 0.1
    done
    scale_json+=("$(gavel_run "bids-x$n" --workload bids --connections "$conns" "${scale_urls[@]}")")
done

soak_line=''
if ((soak > 0)); then
    log "soak: bids, open loop at $half_rate/s for ${soak}s"
    soak_t0=$EPOCHREALTIME
    loadgen soak "$soak" --url "$gavel_url" --workload bids --rate "$half_rate" \
        --connections "$conns" >/dev/null
    soak_t1=$EPOCHREALTIME
    soak_mid=$(awk -v a="$soak_t0" -v b="$soak_t1" 'BEGIN { printf "%.6f", (a + b) / 2 }')
    soak_line="$(rss_at "$soak_t0") $(rss_at "$soak_mid") $(rss_at "$soak_t1")"
fi
peak_rss=$(vm_hwm)

# ---------------------------------------------------------------- summary --

m_bids=$(median "${bids_decided[@]}")
m_pg=$(median "${pg_tps[@]}")
m_hello=$(median "${hello_rps[@]}")
get_rps=$(jget "$get_json" requests_per_second)
r_pg=$(div "$m_bids" "$m_pg")
r_hello=$(div "$get_rps" "$m_hello")
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "null") print "n/a"; else print (r + 0 >= t ? "ok" : "BELOW TARGET") }'; }

{
    echo
    printf '%-16s %-13s %-6s %10s %10s %8s %6s %8s %8s %8s %9s\n' \
        label workload mode req/s decided/s success errors p50_ms p99_ms p999_ms max_ms
    while IFS= read -r j; do
        printf '%-16s %-13s %-6s %10s %10s %8s %6s %8s %8s %8s %9s\n' \
            "$(jget "$j" label)" "$(jget "$j" workload)" "$(jget "$j" mode)" \
            "$(jget "$j" requests_per_second)" "$(jget "$j" decided_per_second)" \
            "$(jget "$j" success_rate)" "$(jget "$j" error_count)" "$(jget "$j" p50)" \
            "$(jget "$j" p99)" "$(jget "$j" p999)" "$(jget "$j" max)"
    done <"$jsonl"
    echo
    echo "medians over $rounds round(s):"
    printf '  gavel bids decided/s   %s   (p99 %s ms)\n' "$m_bids" "$(median "${bids_p99[@]}")"
    printf '  CPU per decided bid    gavel %s us, PostgreSQL %s us\n' \
        "$(median "${bids_cpu_gavel[@]}")" "$(median "${bids_cpu_pg[@]}")"
    printf '  pgbench one-bid TPS    %s   (p99 %s ms)\n' "$m_pg" "$(median "${pg_p99[@]}")"
    printf '  gavel-hello req/s      %s   (p99 %s ms)\n' "$m_hello" "$(median "${hello_p99[@]}")"
    printf '  gavel GET req/s        %s   (p99 %s ms)\n' "$get_rps" "$(jget "$get_json" p99)"
    echo "ratios:"
    printf '  gavel bids decided/s / pgbench TPS   %s   (target >= 2: %s)\n' "$r_pg" "$(verdict "$r_pg" 2)"
    printf '  gavel GET req/s / hello req/s        %s   (target >= 0.5: %s)\n' "$r_hello" "$(verdict "$r_hello" 0.5)"
    printf '  open-loop bids at %s/s: p99 %s ms, p99.9 %s ms, errors %s\n' "$half_rate" \
        "$(jget "$open_json" p99)" "$(jget "$open_json" p999)" "$(jget "$open_json" error_count)"
    printf '  instances 1/2/3 on one PostgreSQL: bids decided/s %s / %s / %s\n' "$m_bids" \
        "$(jget "${scale_json[0]}" decided_per_second)" "$(jget "${scale_json[1]}" decided_per_second)"
    for j in "${scale_json[@]}"; do
        printf '    %s: CPU per decided bid, all gavels %s us, PostgreSQL %s us\n' "$(jget "$j" label)" \
            "$(jget "$j" cpu_gavel_us_per_decided)" "$(jget "$j" cpu_postgres_us_per_decided)"
    done
    printf '  PostgreSQL             %s\n' "$durability"
    printf '  gavel peak RSS (VmHWM)               %s KiB\n' "$peak_rss"
    if [[ -n "$soak_line" ]]; then
        read -r s0 s1 s2 <<<"$soak_line"
        printf '  soak %ss: RSS start %s KiB, middle %s KiB, end %s KiB\n' "$soak" "$s0" "$s1" "$s2"
    fi
    echo "JSON lines: $jsonl   RSS samples: $rss_file"
}

printf '{"label":"summary","seconds":%d,"rounds":%d,"connections":%d,"median_bids_decided_per_second":%s,"median_pgbench_tps":%s,"median_hello_rps":%s,"get_rps":%s,"ratio_bids_to_pgbench":%s,"ratio_get_to_hello":%s,"open_loop_rate":%s,"open_loop_p99_ms":%s,"peak_rss_kib":%s,"soak_rss_kib":%s}\n' \
    "$secs" "$rounds" "$conns" "$m_bids" "$m_pg" "$m_hello" "$get_rps" "$r_pg" "$r_hello" \
    "$half_rate" "$(jget "$open_json" p99)" "$peak_rss" \
    "$(if [[ -n "$soak_line" ]]; then printf '[%s]' "${soak_line// /,}"; else echo null; fi)" >>"$jsonl"
