#!/usr/bin/env bash
# The main job on an embedded default: the daemon against a local Docker engine, the example
# topology (topology/demo-local.json) with hooks from this repository's hooks/ folder, and the
# example plans (plans/*.json) applied one after another.
#
#   bash scripts/demo.sh          # applies the plans, then keeps the daemon running (Ctrl-C stops it)
#   DEMO_ONCE=1 bash scripts/demo.sh   # applies the plans and stops
#   DEMO_PLANS=dir bash scripts/demo.sh # the plans of another folder (*.json, in name order)
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash scripts/ensure-docker.sh)"
bash scripts/ensure-npm.sh
npm run build --silent

STATE=${ECOWARE_STATE_DIR:-$PWD/.state/demo}
PORT=${PORT:-8000}
URL="http://127.0.0.1:$PORT"
mkdir -p "$STATE"

# The hooks repository: this repository's hooks/ folder as a git repository of its own.
HOOKS_REPO="$STATE/hooks-source"
rm -rf "$HOOKS_REPO" && mkdir -p "$HOOKS_REPO" && cp -r hooks/scale_hooks hooks/tier_hooks "$HOOKS_REPO/"
git -C "$HOOKS_REPO" init -q -b main
git -C "$HOOKS_REPO" add -A
git -C "$HOOKS_REPO" -c user.name=demo -c user.email=demo@localhost commit -qm "demo hooks"
sed "s#\${HOOKS_REPO}#$HOOKS_REPO#" topology/demo-local.json >"$STATE/topology.demo.json"

answers() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$URL/${1:-healthz}"; }
if answers; then
  echo "demo: something already answers at $URL; stop it or choose another port (PORT=8001 bash scripts/demo.sh)" >&2
  exit 1
fi
# The daemon logs JSON lines (docs/operations.md); the demo shows warnings only, unless told otherwise.
node dist/cli.js start --port "$PORT" --state-dir "$STATE/daemon" --log-level "${ECOWARE_LOG_LEVEL:-warn}" &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null || true; wait $DAEMON 2>/dev/null || true' EXIT
# Ready: the state restored and plans taken (/healthz answers as soon as the port is open).
for _ in $(seq 1 150); do
  answers readyz && break
  kill -0 $DAEMON 2>/dev/null || { echo "demo: the daemon stopped at start (see above)" >&2; exit 1; }
  sleep 0.2
done

cli() { node dist/cli.js "$@" --url "$URL"; }

# Applies one plan and prints what it did; a plan that fails stops the demo, saying which plan, which
# action and why (the CLI's own message goes to stderr as it is).
apply_plan() {
  local plan=$1 out status=0
  out=$(cli apply "$plan") || status=$?
  if [ $status -ne 0 ]; then
    echo "demo: plan $plan did not succeed (exit code $status)" >&2
    if [ -n "$out" ]; then
      printf '%s' "$out" | node -e '
        const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
        console.log(`  execution ${r.execution_id}: ${r.status}${r.error ? ` (${r.code}): ${r.error}` : ""}`);
        r.steps.forEach((layer, i) => layer.forEach((a) => {
          if (a.status === "failed") console.log(`  failed action [layer ${i}] ${a.description}: ${a.error ?? "see the hooks"}`);
          for (const h of a.hooks ?? []) if (h.exitCode !== 0) console.log(`    hook exit ${h.exitCode}: ${(h.stderr || h.stdout || "").trim().slice(0, 300)}`);
        }));' >&2 || true
    fi
    echo "demo: stopping; the daemon's state, every execution included, is in $STATE/daemon" >&2
    exit 1
  fi
  printf '%s' "$out" | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(`status: ${r.status}  cost: ${r.cost}  execution: ${r.execution_id}`);
    r.actions.forEach((layer, i) => layer.forEach((a) => console.log(`  [${i}] ${a}`)));
    for (const [vm, a] of Object.entries(r.allocation)) console.log(`  ${vm}: ${JSON.stringify(a.used)}`);'
}

# Systems a previous run left (a system is started below) go first: the topology PUT would
# otherwise refuse to drop their running apps.
for sid in $(cli systems ls --json | node -e 'for (const s of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(s.sid)'); do
  cli systems down "$sid" --volumes >/dev/null
done
echo "== PUT /api/topology (topology/demo-local.json)"
cli topology "$STATE/topology.demo.json" >/dev/null && echo "topology loaded"
# A demo run starts from nothing: a previous run's containers are removed through the daemon itself.
echo '{"rubis": {"loadbalancer": {"cpu_cores": 0, "mem_units": 0}, "app_server": {"cpu_cores": 0, "mem_units": 0}, "db": {"cpu_cores": 0, "mem_units": 0}}}' \
  >"$STATE/plan.reset.json"
apply_plan "$STATE/plan.reset.json" >/dev/null
for plan in "${DEMO_PLANS:-plans}"/*.json; do
  echo
  echo "== PUT /api/execute $plan"
  apply_plan "$plan"
done
echo
echo "== GET /api/inspect"
node -e 'fetch(process.argv[1]).then((res) => res.json()).then((r) => {
  for (const [vm, v] of Object.entries(r)) for (const c of v.containers)
    console.log(`  ${vm} ${c.name} ${c.state} CpusetCpus=${c.CpusetCpus} Memory=${c.Memory}`);
  })' "$URL/api/inspect"

# A system from a compose file (systems/shop.yaml): the node's two cores go to it, so the rubis
# tiers are removed first. The daemon chooses the web's host port and reports it.
echo
echo "== systems up systems/shop.yaml (after removing rubis' tiers to free the node)"
echo '{"rubis": {"loadbalancer": {"cpu_cores": 0, "mem_units": 0}, "db": {"cpu_cores": 0, "mem_units": 0}}}' >"$STATE/plan.free.json"
apply_plan "$STATE/plan.free.json" >/dev/null
cli systems up systems/shop.yaml --env-file systems/shop.env --namespace demo | tee "$STATE/system-up.txt"
# The engine is local: its published ports answer on 127.0.0.1 too.
WEB_PORT=$(sed -n 's#.*8080/tcp->[^ ]*:\([0-9]*\).*#\1#p' "$STATE/system-up.txt")
echo "GET http://127.0.0.1:$WEB_PORT/ -> $(node -e 'fetch(process.argv[1]).then((r) => r.text()).then((t) => console.log(t.trim()))' "http://127.0.0.1:$WEB_PORT/")"

if [ -n "${DEMO_ONCE:-}" ]; then exit 0; fi
echo
echo "The daemon keeps running at $URL (state in $STATE/daemon). Ctrl-C stops it."
wait $DAEMON
