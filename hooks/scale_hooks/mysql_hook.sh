#!/bin/sh
# Database hook (on_node_scale): gives the buffer pool most of the container's memory and one
# buffer pool instance per core. MEM_UNIT_MB must match the topology's mem_unit_mb (default 512).
set -eu
unit_mb=${MEM_UNIT_MB:-512}
conf=${MYSQL_TUNING_CONF:-/etc/mysql/conf.d/ecoware.cnf}
pool_mb=$((ECOWARE_MEM_UNITS * unit_mb * 7 / 10))
mkdir -p "$(dirname "$conf")"
cat > "$conf" <<CONF
# written by mysql_hook.sh for $ECOWARE_TIER on $ECOWARE_VM
[mysqld]
innodb_buffer_pool_size = ${pool_mb}M
innodb_buffer_pool_instances = $ECOWARE_CPU_CORES
CONF
if command -v mysql >/dev/null 2>&1; then
  mysql -e "SET GLOBAL innodb_buffer_pool_size = $((pool_mb * 1024 * 1024))"
  echo "buffer pool resized to ${pool_mb} MiB"
else
  echo "no mysql client here; settings written to $conf (buffer pool ${pool_mb} MiB)"
fi
