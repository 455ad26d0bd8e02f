#!/bin/bash
# Slurm array on a shared file system: colorize $DATA/in/val.txt in 8 shards, then extract the
# FID features in 8 shards, then merge and score:
#   a=$(sbatch --parsable deploy/slurm-colorize.sh colorize)
#   b=$(sbatch --parsable --dependency=afterok:$a deploy/slurm-colorize.sh fid)
#   sbatch --dependency=afterok:$b --array=0 deploy/slurm-colorize.sh merge
# A requeued or resubmitted task reruns the same command and finishes the rest of its shard.
#SBATCH --job-name=disco
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=6G
#SBATCH --time=04:00:00
#SBATCH --requeue
set -euo pipefail
DATA=${DATA:-/shared/disco}
cd "${DISCO_CHECKOUT:-$HOME/disco-ts}"   # a checkout after `npm ci` (or run the commands in the container)
i=$SLURM_ARRAY_TASK_ID
case "${1:?colorize, fid or merge}" in
  colorize) npx disco colorize "$DATA/in/val.txt" -o "$DATA/out/colorized" --shard auto --workers "$SLURM_CPUS_PER_TASK" ;;
  fid) npx nx run experiments:eval-fid -- --real "$DATA/in/originals.txt" --fake "$DATA/out/colorized" --shard auto \
         --features-out "$DATA/out/fid/shard$i/features.json" --out "$DATA/out/fid/shard$i/eval-fid.json" ;;
  merge) npx nx run experiments:eval-fid -- --features-in "$DATA/out/fid/shard*/features.json" --out "$DATA/out/fid/eval-fid.json" ;;
esac
