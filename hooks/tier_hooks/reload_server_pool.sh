#!/bin/sh
# Load-balancer hook (on_dependency_scale): the tier behind the balancer changed, so rebuild the
# server pool from the new allocation and reload the balancer.
#
#   UPSTREAM_TIER  flat name of the tier to balance   (default: <app>_app_server)
#   UPSTREAM_PORT  port the servers listen on         (default: 8080)
#   POOL_CONF      where the pool is written          (default: /etc/ecoware/upstream.conf)
#   BALANCER_PID   pid file of a balancer to send HUP (default: /var/run/nginx.pid)
#
# Servers are named by VM; resolve them through DNS or /etc/hosts on the balancer's node.
set -eu
upstream=${UPSTREAM_TIER:-${ECOWARE_APP}_app_server}
port=${UPSTREAM_PORT:-8080}
conf=${POOL_CONF:-/etc/ecoware/upstream.conf}
pid_file=${BALANCER_PID:-/var/run/nginx.pid}

# The VMs whose entry in new_allocation holds the upstream tier. The payload is one line of JSON;
# this walks it with a small string-aware scanner, since busybox has no JSON tool.
servers=$(awk -v tier="$upstream" '
  { s = s $0 }
  END {
    n = length(s); depth = 0; i = 1
    while (i <= n) {
      c = substr(s, i, 1)
      if (c == "\"") {
        j = i + 1; str = ""
        while (j <= n) {
          d = substr(s, j, 1)
          if (d == "\\") { str = str substr(s, j, 2); j += 2; continue }
          if (d == "\"") break
          str = str d; j++
        }
        i = j + 1
        while (substr(s, i, 1) == " ") i++
        if (substr(s, i, 1) == ":") {
          key[depth] = str
          if (depth == 3 && key[1] == "new_allocation" && str == tier) print key[2]
        }
        continue
      }
      if (c == "{") depth++
      else if (c == "}") depth--
      i++
    }
  }' | sort -u)

mkdir -p "$(dirname "$conf")"
{
  echo "# written by reload_server_pool.sh for $ECOWARE_TIER on $ECOWARE_VM"
  echo "upstream $upstream {"
  for vm in $servers; do echo "    server $vm:$port;"; done
  echo "}"
} > "$conf.tmp"
mv "$conf.tmp" "$conf"

count=$(echo "$servers" | grep -c . || true)
if command -v nginx >/dev/null 2>&1 && [ -f "$pid_file" ]; then
  nginx -s reload
  echo "pool of $upstream: $count server(s); nginx reloaded"
elif [ -f "$pid_file" ]; then
  kill -HUP "$(cat "$pid_file")"
  echo "pool of $upstream: $count server(s); balancer signalled"
else
  echo "pool of $upstream: $count server(s) written to $conf; no balancer running"
fi
