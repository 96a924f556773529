#!/usr/bin/env bash
# Runs one fuzz target for SECONDS (default 600) at the lowest CPU priority, one process,
# starting from the committed seeds; the corpus grows in fuzz/corpus/<target>, crashes land in
# fuzz/artifacts/<target>/, libFuzzer's log in fuzz/logs/<target>/fuzz-0.log.
#   fuzz/run.sh access_token|refresh_token|config [SECONDS]
# Builds first with `cargo fuzz build` (needs cargo-fuzz; RUSTC_BOOTSTRAP=1 lets a stable
# toolchain take cargo-fuzz's nightly flags).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh access_token|refresh_token|config [SECONDS]}
seconds=${2:-600}
case "$target" in
  access_token) max_len=17000 ;; # past MAX_TOKEN_LEN (16 KiB)
  refresh_token) max_len=2048 ;;  # past Sealer::open's 1024-byte limit
  config) max_len=8192 ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz build "$target"
bin="$PWD/target/x86_64-unknown-linux-gnu/release/$target"
mkdir -p "corpus/$target" "artifacts/$target" "logs/$target"
cd "logs/$target"
nice -n 19 "$bin" -max_total_time="$seconds" -jobs=1 -workers=1 -timeout=10 \
  -max_len="$max_len" -dict="../../dicts/$target.dict" -print_final_stats=1 \
  -artifact_prefix="../../artifacts/$target/" "../../corpus/$target" "../../seeds/$target"
tail -n 30 fuzz-0.log
