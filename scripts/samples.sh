#!/bin/bash
# Regenerates docs/samples/: a 30-second Ogg Opus sample of every built-in preset (seed 1,
# 48 kHz, 24 kbit/s stereo), each checked to decode to its full length and not be silent.
#   scripts/samples.sh            (or: make samples)
set -euo pipefail
cd "$(dirname "$0")/.."
BITRATE=${BITRATE:-24}
OUT=docs/samples
# PROFILE=dev reuses the (optimised) test build instead of a release build
PROFILE=${PROFILE:-release}
DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
cargo build --profile "$PROFILE" -q -p isochord-cli
cargo build --profile "$PROFILE" -q -p isochord-engine --example check_opus
ISOCHORD=target/$DIR/isochord
mkdir -p "$OUT"
rm -f "$OUT"/*.opus
# the built-in presets: the first word of each line of `isochord presets`
presets=$("$ISOCHORD" presets | awk 'NF && $1 ~ /^[a-z]+$/ {print $1}')
[ -n "$presets" ] || { echo "error: no presets listed" >&2; exit 1; }
for p in $presets; do
    "$ISOCHORD" render --preset "$p" --duration 30s --seed 1 --bitrate "$BITRATE" \
        --out "$OUT/$p.opus" --quiet
done
# each decodes to 30 s and is not silent (the check-opus example decodes with libopus)
target/$DIR/examples/check_opus 30 "$OUT"/*.opus
du -ch "$OUT"/*.opus | tail -n 1
