#!/usr/bin/env bash
# Integration test of deploy/slurm-colorize.sh on a real, throw-away, single-node Slurm (run by
# .ci/run after `npm test`; a few minutes). As root it installs Debian's slurmctld, slurmd and munge
# when missing, starts munged, slurmctld and slurmd in the foreground from a temporary folder (own
# ports, own config, own key; no system service is touched), submits the script's three steps
# unchanged — colorize and FID as 4-task arrays, then the merge — waits for them, and compares with
# one process: the colorized PNGs byte for byte and the merged FID bit for bit. Its daemons are
# stopped by PID on exit, whatever happens.
#
#   deploy/slurm-ci-test.sh            # from a checkout after `npm ci`
#   DISCO_SLURM_KEEP=1 deploy/...      # keep the temporary folder (logs) for a look afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
say() { printf 'slurm-ci: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "needs root (or sudo) to install and run Slurm"
  SUDO="sudo"
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd munge (apt-get)"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q slurmctld slurmd munge >/dev/null
fi

T=$(mktemp -d /tmp/disco-slurm-ci.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do $SUDO kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    $SUDO kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/jobs/*.out; do [ -f "$f" ] && { say "--- $f (last lines)"; tail -n 15 "$f" >&2; }; done
  fi
  [ -n "${DISCO_SLURM_KEEP:-}" ] && say "kept $T" || $SUDO rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports nobody else uses on this machine (the system's Slurm, if any, keeps 6817/6818).
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
CTLD_PORT=$(port)
SLURMD_PORT=$(port)
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)
mkdir -p "$T"/state "$T"/spool "$T"/jobs "$T"/munge

# munge: its own key and socket.
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
$SUDO munged -F --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.sock" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" >>"$T/munge/munged.log" 2>&1 &
PIDS+=($!)

cat >"$T/slurm.conf" <<EOF
ClusterName=disco-ci
SlurmctldHost=$HOST
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"

for _ in $(seq 50); do [ -S "$T/munge/munge.sock" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.sock" ] || fail "munged did not start"
$SUDO env SLURM_CONF="$SLURM_CONF" slurmctld -D -c -f "$SLURM_CONF" >>"$T/slurmctld.log" 2>&1 &
PIDS+=($!)
$SUDO env SLURM_CONF="$SLURM_CONF" slurmd -D -f "$SLURM_CONF" >>"$T/slurmd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  state=$(sinfo -h -N -o '%t' 2>/dev/null | head -n1 || true)
  case "$state" in idle|mix|alloc) break ;; esac
  sleep 0.3
done
[ "${state:-}" = idle ] || fail "the Slurm node did not come up (state '${state:-none}')"
say "single-node Slurm up on $HOST ($CPUS CPUs; slurmctld :$CTLD_PORT, slurmd :$SLURMD_PORT)"

# The data: the bundled grey demo photos, as the script's list files.
DATA="$T/data"
mkdir -p "$DATA/in" "$DATA/out"
ls "$REPO"/packages/colorize/demo/grey/*.jpg | head -n 6 >"$DATA/in/val.txt"
cp "$DATA/in/val.txt" "$DATA/in/originals.txt"
export DATA DISCO_CHECKOUT="$REPO" DISCO_BACKEND=wasm

# The three steps, unchanged, as arrays of 4 (one CPU and 2 GB per task).
submit() { sbatch --parsable --array=0-3 --cpus-per-task=1 --mem=2G --output="$T/jobs/%x-%A_%a.out" "$@"; }
a=$(submit --job-name=colorize deploy/slurm-colorize.sh colorize)
b=$(submit --job-name=fid --dependency=afterok:$a deploy/slurm-colorize.sh fid)
c=$(sbatch --parsable --array=0 --cpus-per-task=1 --mem=2G --job-name=merge --output="$T/jobs/%x-%A_%a.out" --dependency=afterok:$b deploy/slurm-colorize.sh merge)
say "submitted colorize $a, fid $b, merge $c"

# Meanwhile, the same work in one process.
npx disco colorize "$DATA/in/val.txt" -o "$T/single/colorized" --workers 1 >/dev/null 2>"$T/single-colorize.log"
npx nx run experiments:eval-fid -- --real "$DATA/in/originals.txt" --fake "$T/single/colorized" \
  --out "$T/single/eval-fid.json" >/dev/null 2>"$T/single-fid.log"

deadline=$((SECONDS + ${DISCO_SLURM_TIMEOUT_S:-420}))
while squeue -h -o '%i' 2>/dev/null | grep -q .; do
  [ "$SECONDS" -lt "$deadline" ] || { squeue >&2; fail "the jobs did not finish in time"; }
  sleep 2
done
# Every task must have ended well: a failed dependency leaves the later jobs cancelled, not run.
[ -f "$DATA/out/fid/eval-fid.json" ] || fail "no merged $DATA/out/fid/eval-fid.json (a step failed; see the job logs)"

node --input-type=module - "$DATA/out/colorized" "$T/single/colorized" "$DATA/out/fid/eval-fid.json" "$T/single/eval-fid.json" <<'EOF'
import * as fs from 'node:fs';
import * as path from 'node:path';
const [arrayDir, singleDir, merged, single] = process.argv.slice(2);
const pngs = (d) => fs.readdirSync(d).filter((f) => f.endsWith('.png')).sort();
const a = pngs(arrayDir);
const b = pngs(singleDir);
if (a.length === 0 || JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`colorized files differ: array [${a}] vs one process [${b}]`);
for (const f of a) if (!fs.readFileSync(path.join(arrayDir, f)).equals(fs.readFileSync(path.join(singleDir, f)))) throw new Error(`${f}: the array's PNG differs from one process's`);
const fm = JSON.parse(fs.readFileSync(merged, 'utf8')).scores.fid;
const fs1 = JSON.parse(fs.readFileSync(single, 'utf8')).scores.fid;
for (const k of Object.keys(fs1)) if (!Object.is(fm[k], fs1[k])) throw new Error(`${k}: merged ${fm[k]} vs one process ${fs1[k]}`);
if (Object.keys(fm).length !== Object.keys(fs1).length || Object.keys(fs1).length === 0) throw new Error('the FID labels differ');
console.error(`slurm-ci: ${a.length} PNGs byte-identical; FID ${Object.entries(fm).map(([k, v]) => `${k} ${v}`).join(', ')} bit-equal to one process`);
EOF
say "passed"
