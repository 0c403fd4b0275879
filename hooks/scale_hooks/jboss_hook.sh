#!/bin/sh
# Application-server hook (on_node_scale): sizes the worker pool and the heap to the container's new
# share, then asks a running server to pick the settings up. MEM_UNIT_MB must match the topology's
# mem_unit_mb (default 512).
set -eu
unit_mb=${MEM_UNIT_MB:-512}
conf=${APP_SERVER_CONF:-/etc/ecoware/app_server.conf}
heap_mb=$((ECOWARE_MEM_UNITS * unit_mb * 3 / 4))
workers=$((ECOWARE_CPU_CORES * 2))
mkdir -p "$(dirname "$conf")"
cat > "$conf" <<CONF
# written by jboss_hook.sh for $ECOWARE_TIER on $ECOWARE_VM
JAVA_OPTS="-Xms${heap_mb}m -Xmx${heap_mb}m"
WORKER_THREADS=$workers
CONF
if [ -f "${APP_SERVER_PID:-/var/run/app_server.pid}" ]; then
  kill -HUP "$(cat "${APP_SERVER_PID:-/var/run/app_server.pid}")"
  echo "reloaded app server with heap ${heap_mb} MiB, $workers workers"
else
  echo "no running app server; settings written to $conf (heap ${heap_mb} MiB, $workers workers)"
fi
