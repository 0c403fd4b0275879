#!/usr/bin/env bash
# Makes a Docker engine and the local test image available, installing what is missing.
#
#   eval "$(scripts/ensure-docker.sh)"              # exports DOCKER_HOST for the caller
#   eval "$(scripts/ensure-docker.sh --fresh DIR)"  # a new engine on a brand-new data root under DIR
#   scripts/ensure-docker.sh --remove DIR           # stops that engine and removes DIR and its bridge
#
# Reuses an engine that already answers at $DOCKER_HOST (or the default socket); otherwise starts a
# private dockerd under $ECOWARE_DOCKER_DIR (default /var/lib/ecoware-dockerd). No registry is needed:
# the image ecoware/busybox:latest is imported from a root filesystem holding Debian's static busybox.
# Everything it prints on stdout is shell for eval; progress goes to stderr.
#
# --fresh starts dockerd as on a machine where Docker never ran: an empty data root, and a bridge of
# its own that has no address yet (dockerd picks a free subnet, as it does for docker0), so it never
# clashes with another engine of the machine. Its socket is DIR/docker.sock.
set -euo pipefail

IMAGE=${ECOWARE_TEST_IMAGE:-ecoware/busybox:latest}
DIR=${ECOWARE_DOCKER_DIR:-/var/lib/ecoware-dockerd}
SOCK="unix://$DIR/docker.sock"
log() { echo "ensure-docker: $*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] && file_is_static=$(ldd /bin/busybox 2>&1 | grep -c 'not a dynamic' || true) || file_is_static=0
[ "${file_is_static:-0}" -ge 1 ] || need_pkgs+=(busybox-static)
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  bash "$(cd "$(dirname "$0")" && pwd)/apt-install.sh" "${need_pkgs[@]}"
fi

mode=reuse
if [ "${1:-}" = "--fresh" ] || [ "${1:-}" = "--remove" ]; then
  [ -n "${2:-}" ] || { log "usage: $0 [--fresh DIR | --remove DIR]"; exit 2; }
  mode=${1#--}
  DIR=$2
  SOCK="unix://$DIR/docker.sock"
fi

stop_engine() {
  local dir=$1
  if [ -f "$dir/dockerd.pid" ]; then
    local pid; pid=$(cat "$dir/dockerd.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  if [ -f "$dir/bridge" ]; then ip link del "$(cat "$dir/bridge")" 2>/dev/null || true; fi
}

if [ "$mode" = remove ]; then
  stop_engine "$DIR"
  rm -rf "$DIR"
  exit 0
fi

engine_answers() { DOCKER_HOST="$1" timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

host=""
if [ "$mode" = reuse ]; then
  for candidate in "${DOCKER_HOST:-}" "$SOCK" "unix:///var/run/docker.sock"; do
    [ -n "$candidate" ] || continue
    if engine_answers "$candidate"; then host=$candidate; break; fi
  done
fi

if [ -z "$host" ]; then
  bridge_args=()
  if [ "$mode" = fresh ]; then
    stop_engine "$DIR"
    rm -rf "$DIR"
    mkdir -p "$DIR"
    # Interface names hold at most 15 characters; the pid keeps concurrent runs apart.
    bridge="ecoci$$"
    ip link del "$bridge" 2>/dev/null || true
    ip link add "$bridge" type bridge
    echo "$bridge" >"$DIR/bridge"
    bridge_args=(--bridge "$bridge" --shutdown-timeout 1)
  elif [ -f "$DIR/dockerd.pid" ] && kill -0 "$(cat "$DIR/dockerd.pid")" 2>/dev/null; then
    kill "$(cat "$DIR/dockerd.pid")" || true; sleep 2
  fi
  log "starting dockerd at $SOCK"
  mkdir -p "$DIR/data" "$DIR/exec"
  rm -f "$DIR/docker.sock" "$DIR/dockerd.pid"
  nohup dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$DIR/dockerd.pid" \
    -H "$SOCK" --iptables=false "${bridge_args[@]}" >"$DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    engine_answers "$SOCK" && break
    sleep 0.5
  done
  engine_answers "$SOCK" || { log "dockerd did not come up; last lines of $DIR/dockerd.log:"; tail -20 "$DIR/dockerd.log" >&2; exit 1; }
  host=$SOCK
fi

# The label says which build of the image this is; an older build is replaced.
IMAGE_BUILD=all-applets-1
if [ "$(DOCKER_HOST=$host docker image inspect -f '{{index .Config.Labels "io.ecoware.busybox"}}' "$IMAGE" 2>/dev/null)" != "$IMAGE_BUILD" ]; then
  log "building $IMAGE from /bin/busybox"
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/var/www"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
  tar -C "$root" -c . | DOCKER_HOST=$host docker import \
    -c 'CMD ["/bin/sleep", "1000000"]' -c 'ENV PATH=/bin' \
    -c "LABEL io.ecoware.busybox=$IMAGE_BUILD" - "$IMAGE" >&2
  rm -rf "$root"
fi

echo "export DOCKER_HOST='$host'"
echo "export ECOWARE_TEST_IMAGE='$IMAGE'"
