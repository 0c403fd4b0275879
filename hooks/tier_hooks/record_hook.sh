#!/bin/sh
# Records what the executor hands a hook: the JSON payload (standard input) and the ECOWARE_*
# variables. Useful as a first hook, to see what a real one will receive, and in tests.
#
# Writes, in ${ECOWARE_HOOK_LOG_DIR:-/tmp/ecoware-hook-log}:
#   <event>.json   the last payload of that event (on_node_scale / on_dependency_scale)
#   <event>.env    the ECOWARE_* variables it ran with, one per line, sorted
#   history.log    one line per run
set -eu
dir=${ECOWARE_HOOK_LOG_DIR:-/tmp/ecoware-hook-log}
mkdir -p "$dir"
cat > "$dir/$ECOWARE_EVENT.json"
env | grep '^ECOWARE_' | sort > "$dir/$ECOWARE_EVENT.env"
echo "$ECOWARE_EVENT $ECOWARE_TIER on $ECOWARE_VM: cpu_cores=$ECOWARE_CPU_CORES mem_units=$ECOWARE_MEM_UNITS" >> "$dir/history.log"
echo "recorded $ECOWARE_EVENT for $ECOWARE_TIER on $ECOWARE_VM"
