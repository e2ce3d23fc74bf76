#!/usr/bin/env bash
# Builds the two bundled piano loops from the Salamander Grand Piano V3
# velocity-10 samples (see ATTRIBUTION.md). Uses only sox.
#
#   make-loops.sh [PIANO_DIR] [OUT_DIR]
#
# PIANO_DIR defaults to ./piano next to this script (the *v10.ogg samples),
# OUT_DIR defaults to ./loops next to this script.
#
# Output:
#   piano-arpeggio-70bpm.ogg  8 beats at 70 BPM, D major pentatonic,
#                             exactly 329143 frames at 48 kHz, stereo,
#                             one note attack on each beat, peak about -6 dBFS
#   piano-wash-d.ogg          20 s texture in D (960000 frames), no onsets,
#                             peak about -10 dBFS
#
# Both loops are rendered longer than the loop, and the part after the loop
# end is mixed back onto the start, so ringing tails wrap around and the file
# loops without a seam.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
piano="${1:-$here/piano}"
out="${2:-$here/loops}"
rate=48000

command -v sox >/dev/null || { echo "make-loops.sh: sox not found" >&2; exit 1; }
[[ -d "$piano" ]] || { echo "make-loops.sh: no piano folder: $piano" >&2; exit 1; }
mkdir -p "$out"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# -R: same pseudo-random numbers on every run; -D: no dither; -V1: errors only.
SOX=(sox -R -D -V1)
F32=(-e floating-point -b 32)

# Attack detection: the frame at which a note's attack has risen to about
# -50 dBFS (for these samples that is where it reaches ~10 % of its peak,
# the steep part of the hammer attack). sox `silence` trims everything before
# it; the number of frames removed is the attack position.
attack_frame() {
    local src="$1" total kept
    total="$(soxi -s "$src")"
    "${SOX[@]}" "$src" "${F32[@]}" "$tmp/probe.wav" silence 1 1s -50d
    kept="$(soxi -s "$tmp/probe.wav")"
    echo $(( total - kept ))
}

# Silent stereo bed of N frames: mixed under a render to fix its length.
silent_bed() {
    "${SOX[@]}" -n -r "$rate" -c 2 "${F32[@]}" "$2" trim 0 "${1}s"
}

# Fold a render of at least 2L + O frames into a loop of L frames whose
# frame 0 is render frame O: loop[t] = r[O + t] + r[O + L + t] + r[t - L + O]
# (the last term wraps the O frames before the loop start onto its end).
fold() {
    local in="$1" len="$2" origin="$3" dst="$4"
    local parts=()
    "${SOX[@]}" "$in" "$tmp/fold-a.wav" trim "${origin}s" "${len}s"
    "${SOX[@]}" "$in" "$tmp/fold-b.wav" trim "$(( origin + len ))s" "${len}s"
    parts=(-v 1 "$tmp/fold-a.wav" -v 1 "$tmp/fold-b.wav")
    if (( origin > 0 )); then
        "${SOX[@]}" "$in" "$tmp/fold-c.wav" trim 0 "${origin}s" pad "$(( len - origin ))s@0"
        parts+=(-v 1 "$tmp/fold-c.wav")
    fi
    "${SOX[@]}" -m "${parts[@]}" "${F32[@]}" "$dst" trim 0 "${len}s"
}

# ---------------------------------------------------------------------------
# 1. piano-arpeggio-70bpm: D4 F#4 A4 B4 D5 B4 A4 F#4, one note per beat.
# ---------------------------------------------------------------------------
beats=8
# beat k starts at round(k * 60/70 * 48000) = round(k * 288000 / 7) frames
beat_frame() { echo $(( ($1 * 2 * 60 * rate + 70) / (2 * 70) )); }
loop_len="$(beat_frame "$beats")"            # 329143 frames = 6.857142857 s
# Each note keeps `preroll` frames before its detected attack, so the attack
# itself is not cut; the attack lands exactly on the beat. The render is
# offset by `preroll` frames (render frame = loop frame + preroll), and the
# first note's pre-roll is wrapped onto the end of the loop by `fold`.
preroll=64
render_len=$(( 2 * loop_len + preroll ))

# note  source sample  shift (cents)  level (dB)
arp=(
    "D4  D#4 -100  0.0"
    "F#4 F#4    0 -1.0"
    "A4  A4     0 -1.5"
    "B4  C5  -100 -2.0"
    "D5  D#5 -100 -1.0"
    "B4  C5  -100 -3.0"
    "A4  A4     0 -3.0"
    "F#4 F#4    0 -4.0"
)
note_len=3.2    # seconds each note sounds (sustain pedal style overlap)
note_fade=1.6   # seconds of fade-out at the end of each note

mix_in=()
k=0
for spec in "${arp[@]}"; do
    read -r name src cents level <<<"$spec"
    shifted="$tmp/shifted.wav"
    if (( cents != 0 )); then
        "${SOX[@]}" "$piano/${src}v10.ogg" "${F32[@]}" "$shifted" speed "${cents}c" rate -v "$rate"
    else
        "${SOX[@]}" "$piano/${src}v10.ogg" "${F32[@]}" "$shifted"
    fi
    attack="$(attack_frame "$shifted")"
    (( attack >= preroll )) || { echo "make-loops.sh: attack too early in ${src}v10.ogg" >&2; exit 1; }
    note="$tmp/arp-$k.wav"
    "${SOX[@]}" "$shifted" "${F32[@]}" "$note" \
        trim "$(( attack - preroll ))s" \
        trim 0 "$note_len" fade h 0 "$note_len" "$note_fade" \
        gain -n -15 gain "$level"
    # note file frame `preroll` (its attack) -> render frame beat + preroll
    start="$(beat_frame "$k")"
    if (( start > 0 )); then
        "${SOX[@]}" "$note" "$tmp/padded.wav" pad "${start}s"
        mv "$tmp/padded.wav" "$note"
    fi
    echo "arpeggio: beat $((k + 1)) at frame $start: $name from ${src}v10 (${cents} cents, ${level} dB), attack at source frame $attack"
    mix_in+=(-v 1 "$note")
    k=$(( k + 1 ))
done

silent_bed "$render_len" "$tmp/arp-bed.wav"
"${SOX[@]}" -m -v 1 "$tmp/arp-bed.wav" "${mix_in[@]}" "${F32[@]}" "$tmp/arp-render.wav" \
    trim 0 "${render_len}s"
fold "$tmp/arp-render.wav" "$loop_len" "$preroll" "$tmp/arp-loop.wav"
"${SOX[@]}" "$tmp/arp-loop.wav" -r "$rate" -c 2 -C 6 "$out/piano-arpeggio-70bpm.ogg" gain -n -6
echo "wrote $out/piano-arpeggio-70bpm.ogg ($(soxi -s "$out/piano-arpeggio-70bpm.ogg") frames)"

# ---------------------------------------------------------------------------
# 2. piano-wash-d: slowed, reverberant D major chord layers, no attacks.
# ---------------------------------------------------------------------------
wash_len=$(( 20 * rate ))                     # 960000 frames = 20 s
wash_render=$(( 2 * wash_len ))

# Each layer is a sample one octave (plus a semitone where needed) above the
# target note, played at about half speed: an octave lower, twice as long and
# darker. The hammer attack is cut off and the layer fades in slowly.
# note  source sample  shift (cents)  start (s)  level (dB)
wash=(
    "D3  D#4 -1300  0.0  0.0"
    "A3  A4  -1200  2.5 -2.0"
    "F#4 F#5 -1200  5.5 -4.0"
    "D5  D#6 -1300  9.0 -6.0"
    "D4  D#5 -1300 12.0 -3.0"
    "A4  A5  -1200 15.0 -5.0"
)
layer_len=13.5   # seconds each layer sounds
layer_in=4       # fade-in seconds
layer_out=6      # fade-out seconds

mix_in=()
k=0
for spec in "${wash[@]}"; do
    read -r name src cents start level <<<"$spec"
    layer="$tmp/wash-$k.wav"
    "${SOX[@]}" "$piano/${src}v10.ogg" "${F32[@]}" "$layer" \
        speed "${cents}c" rate -v "$rate" \
        trim 0.25 \
        trim 0 "$layer_len" fade q "$layer_in" "$layer_len" "$layer_out" \
        gain -n -15 gain "$level"
    if [[ "$start" != "0.0" ]]; then
        "${SOX[@]}" "$layer" "$tmp/padded.wav" pad "$start"
        mv "$tmp/padded.wav" "$layer"
    fi
    echo "wash: layer $name from ${src}v10 (${cents} cents) at ${start} s, ${level} dB"
    mix_in+=(-v 1 "$layer")
    k=$(( k + 1 ))
done

# Reverb smears the layers; a slow tremolo (2 cycles per 20 s, so it lines up
# with the fold) lets the wash breathe.
silent_bed "$wash_render" "$tmp/wash-bed.wav"
"${SOX[@]}" -m -v 1 "$tmp/wash-bed.wav" "${mix_in[@]}" "${F32[@]}" "$tmp/wash-render.wav" \
    reverb 85 60 100 100 40 -2 \
    lowpass 6000 \
    tremolo 0.1 30 \
    trim 0 "${wash_render}s"
fold "$tmp/wash-render.wav" "$wash_len" 0 "$tmp/wash-loop.wav"
"${SOX[@]}" "$tmp/wash-loop.wav" -r "$rate" -c 2 -C 6 "$out/piano-wash-d.ogg" gain -n -10
echo "wrote $out/piano-wash-d.ogg ($(soxi -s "$out/piano-wash-d.ogg") frames)"
