#!/usr/bin/env bash
# A first taste of mk8s: bring up the local test control plane (built from Go modules on first
# use, which takes 10-20 minutes once), enable dns on it, and show the status.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/commands/enable.js ] || node scripts/build.mjs
if [ ! -f .cluster/state.json ]; then
  node scripts/cluster/cluster.mjs up
fi
export KUBECONFIG="$PWD/.cluster/kubeconfig"

echo
echo "\$ mk8s enable dns"
./bin/run.js enable dns
echo
echo "\$ mk8s status"
./bin/run.js status
cat <<MSG

The cluster keeps running. Try, with KUBECONFIG=$KUBECONFIG:
  ./bin/run.js enable dns:1.1.1.1     # reconfigure CoreDNS's upstream
  ./bin/run.js diff dns:9.9.9.9       # see what a change would do
  ./bin/run.js disable dns
Tear it down with: npm run cluster:down
MSG
