#!/usr/bin/env bash
# A one-node SLURM cluster on localhost for CI (Debian, as root): slurmctld + slurmd + munged,
# one fake GPU (gres on /dev/null), no accounting database (job status comes from squeue).
#   .ci/local_slurm.sh install   # apt-get install slurm-wlm munge
#   .ci/local_slurm.sh start     # write the config, start the daemons, wait until the node is idle
#   .ci/local_slurm.sh stop      # stop the daemons this script started, by the PIDs it recorded
# State, logs and PID files live in $SLURM_HOME (default /tmp/autoreid-slurm).
# Pitfalls this avoids:
#  - the config must be at /etc/slurm: the executor's job step drops SLURM_CONF before `srun`;
#  - DefMemPerCPU: without it every job asks for the whole node and jobs run one at a time;
#  - MinJobAge >= 120 s: finished jobs must stay visible to squeue for the status checks.
set -euo pipefail

SLURM_HOME=${SLURM_HOME:-/tmp/autoreid-slurm}
NODE=$(hostname -s)
say() { echo "[local_slurm] $*" >&2; }

until_ok() {  # until_ok SECONDS CMD...: retry CMD until it succeeds or time runs out
  local end=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { say "gave up waiting for: $*"; return 1; }
    sleep 0.5
  done
}

install() {
  if command -v slurmctld >/dev/null && command -v munged >/dev/null; then return; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq slurm-wlm munge >/dev/null
  say "installed $(slurmctld -V)"
}

configure() {
  mkdir -p "$SLURM_HOME"/{etc,state,spool,log,run} /etc/slurm
  local mem_mb
  mem_mb=$(awk '/MemTotal/ {m = int($2 / 2048); print (m > 16000 ? 16000 : m)}' /proc/meminfo)
  cat > "$SLURM_HOME/etc/slurm.conf" <<EOF
ClusterName=autoreid-ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$SLURM_HOME/state
SlurmdSpoolDir=$SLURM_HOME/spool
SlurmctldPidFile=$SLURM_HOME/run/slurmctld.pid
SlurmdPidFile=$SLURM_HOME/run/slurmd.pid
SlurmctldLogFile=$SLURM_HOME/log/slurmctld.log
SlurmdLogFile=$SLURM_HOME/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
SchedulerType=sched/backfill
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
MinJobAge=300
KillWait=5
InactiveLimit=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  printf 'AutoDetect=off\nNodeName=%s Name=gpu File=/dev/null Count=1\n' "$NODE" \
    > "$SLURM_HOME/etc/gres.conf"
  ln -sf "$SLURM_HOME/etc/slurm.conf" /etc/slurm/slurm.conf
  ln -sf "$SLURM_HOME/etc/gres.conf" /etc/slurm/gres.conf
}

start() {
  configure
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  fi
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    until_ok 10 sh -c 'munge -n | unmunge'
    cp /run/munge/munged.pid "$SLURM_HOME/run/munged.pid"
  fi
  slurmctld -i
  until_ok 30 scontrol ping
  slurmd
  until_ok 60 sh -c "sinfo -h -n $NODE -o %T | grep -qE '^(idle|mixed|allocated)$'"
  say "up: $(sinfo -h -o '%P %D %T %G')"
}

stop_pid() {  # stop_pid FILE: TERM the process named in FILE, KILL it after 10 s
  local file=$SLURM_HOME/run/$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    say "stopped $1 ($pid)"
  fi
  rm -f "$file"
}

stop() {
  scancel --user="$(id -un)" >/dev/null 2>&1 || true
  stop_pid slurmd.pid
  stop_pid slurmctld.pid
  stop_pid munged.pid
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
