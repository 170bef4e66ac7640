#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each, one at a time, and print a table:
# target, seconds run, executions (libFuzzer's stat::number_of_executed_units), findings.
#
#   fuzz/run-all.sh SECONDS [TARGET...]
#
# Seeds are read from fuzz/corpus/TARGET (committed); what the fuzzer adds goes to
# fuzz/work/TARGET (ignored by git, kept between runs so later sessions start further on).
# Findings are written by libFuzzer to fuzz/artifacts/TARGET/ (crash-*, timeout-*, oom-*,
# slow-unit-*); a target stops at its first one. Each run's log is fuzz/work/TARGET.log, and the
# table also goes to fuzz/work/last-run.md.
#
# The build takes the machine's cargo lock (/tmp/wsdeck-cargo.lock), once, for every target;
# the runs then start the built binaries themselves (what `cargo +nightly fuzz run TARGET`
# starts after its own build, which would compile again, outside the lock, whenever the
# library changed during a run). One target at a time, in one process: no -jobs/-workers,
# which would fork workers (and send their output to fuzz-N.log) on two shared cores.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if [[ $# -lt 1 || ! "$1" =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run-all.sh SECONDS_PER_TARGET [TARGET...]" >&2
    exit 2
fi
secs="$1"
shift
all_targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^wsdeck-fuzz$')
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    # shellcheck disable=SC2206
    targets=($all_targets)
fi

# The dictionary and longest input for each target (libFuzzer would otherwise stop at 4096
# bytes, too short for deep nesting or a capture of many lines).
dict_of() {
    case "$1" in
        capture_read | capture_line | har | inspect_stream) echo dict/capture.dict ;;
        config_* | keymap) echo dict/toml.dict ;;
        asyncapi | asyncapi_validate) echo dict/asyncapi.dict ;;
        proto_parse) echo dict/proto.dict ;;
        filter_parse) echo dict/jq.dict ;;
        json_pretty | jq_input) echo dict/json.dict ;;
        *) echo "" ;;
    esac
}
max_len_of() {
    case "$1" in
        capture_read | json_pretty | jq_input | asyncapi | har) echo 65536 ;;
        *) echo 8192 ;;
    esac
}

flock /tmp/wsdeck-cargo.lock cargo +nightly fuzz build >&2
bin_dir="$here/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

mkdir -p work
scratch="$(mktemp -d /dev/shm/wsdeck-fuzz.XXXXXX 2>/dev/null || mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

table="| target | seconds | executions | findings |
|---|---|---|---|"
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    dict=$(dict_of "$t")
    args=(-artifact_prefix="$here/artifacts/$t/" -max_total_time="$secs" -rss_limit_mb=2048
        -timeout=10 -max_len="$(max_len_of "$t")" -print_final_stats=1)
    [[ -n "$dict" ]] && args+=(-dict="$dict")
    start=$(date +%s)
    status=0
    WSDECK_FUZZ_SCRATCH="$scratch/$t" "$bin_dir/$t" "${args[@]}" "work/$t" "corpus/$t" \
        >"work/$t.log" 2>&1 || status=$?
    ran=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "work/$t.log" | tail -1)
    after=$(find "artifacts/$t" -type f | wc -l)
    found=$((after - before))
    if [[ $found -gt 0 ]]; then
        names=$(find "artifacts/$t" -type f -printf '%T@ %f\n' | sort -n | tail -"$found" | cut -d' ' -f2 | paste -sd' ')
        findings="$found ($names)"
    elif [[ $status -ne 0 ]]; then
        findings="exit $status, see fuzz/work/$t.log"
    else
        findings=0
    fi
    row="| $t | $ran | ${execs:-?} | $findings |"
    echo "$row" >&2
    table+=$'\n'"$row"
done
echo "$table" | tee work/last-run.md
