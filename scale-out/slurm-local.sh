#!/usr/bin/env bash
# Checks the recipe in docs/scale-out.md on a one-node Slurm built from Debian's packages:
# it installs slurm-wlm and munge, starts them, runs the documented job array plus merge,
# and compares the merged report with one whole run. Not part of CI (it installs system
# packages and starts daemons); run it as root on a fresh Debian/Ubuntu machine or container:
#
#     bash scale-out/slurm-local.sh [SHARDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDS=${1:-4}
EXP=experiments/diabetes.toml

if ! command -v sbatch >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# One node, this machine, with all its cores and memory.
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
conf_dir=/etc/slurm
mkdir -p "$conf_dir" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat > "$conf_dir/slurm.conf" <<CONF
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
[ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged 2>/dev/null || munged --force
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mixed' && break; sleep 1; done
sinfo

cargo build --release --quiet
export PATH="$PWD/target/release:$PATH"
work=$(mktemp -d)
# The array script of docs/scale-out.md, as documented.
cat > "$work/sweep.sbatch" <<'SBATCH'
#!/bin/bash
#SBATCH --job-name=runner-sweep
#SBATCH --cpus-per-task=1
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
runner run "$EXP" --quiet --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "${SLURM_ARRAY_TASK_ID}/${SHARDS}" --out "$WORK/shards/${SLURM_ARRAY_TASK_ID}"
SBATCH
export EXP="$PWD/$EXP" WORK="$work" SHARDS
array=$(sbatch --parsable --chdir="$work" --array="1-$SHARDS" --export=ALL "$work/sweep.sbatch")
merge=$(sbatch --parsable --chdir="$work" --dependency="afterok:$array" --export=ALL \
  --wrap "runner merge $work/shards/*/partial.json --out $work/merged")
echo "array job $array, merge job $merge"
while squeue -h -j "$array,$merge" 2>/dev/null | grep -q .; do sleep 2; done
sacct -j "$array,$merge" --format=JobID,State,ExitCode 2>/dev/null || true

runner run "$EXP" --quiet --out "$work/whole" >/dev/null
strip() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("run"); print(json.dumps(r, sort_keys=True))' "$1"; }
if [ "$(strip "$work/whole/report.json")" = "$(strip "$work/merged/report.json")" ]; then
  echo "OK: $SHARDS Slurm shards merged equal one whole run (report.json outside \`run\`)"
else
  echo "MISMATCH between $work/whole and $work/merged"; exit 1
fi
