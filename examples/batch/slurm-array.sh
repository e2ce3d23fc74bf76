#!/bin/bash
# A folder of recordings rendered as a Slurm job array: every task renders its own share
# (render-batch reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT),
# and a last job, started once all of them have finished, merges their results.
#
#   sbatch examples/batch/slurm-array.sh RECORDINGS_DIR OUT_DIR
#   # then, with the array's job id:
#   sbatch --dependency=afterany:JOBID --wrap "isochord render-batch-merge OUT_DIR"
#
# OUT_DIR must be on a file system every node sees (each task writes its sessions'
# folders and OUT_DIR/shard-K-of-N.json into it).
#SBATCH --job-name=isochord-batch
#SBATCH --array=0-3
#SBATCH --cpus-per-task=4
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --output=isochord-%A_%a.out
set -euo pipefail

RECORDINGS=${1:?usage: sbatch slurm-array.sh RECORDINGS_DIR OUT_DIR}
OUT=${2:?usage: sbatch slurm-array.sh RECORDINGS_DIR OUT_DIR}

# exit code 1 means some recordings failed (named in summaries.csv after the merge);
# the task still counts as done for the merge's dependency (afterany)
isochord render-batch "$RECORDINGS" --preset relax --duration 40m --out "$OUT" \
    --jobs "${SLURM_CPUS_PER_TASK:-1}" --quiet
