#!/usr/bin/env bash
# Builds the test control plane from the Go module proxy: kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl at one pinned Kubernetes
# release, etcd at the version that release pins, and kwok. Binaries are cached
# by version outside the work tree, so a warm run builds nothing.
set -euo pipefail

K8S_VERSION=${MK8S_K8S_VERSION:-1.34.4}
KWOK_VERSION=${MK8S_KWOK_VERSION:-v0.8.0}
CACHE=${MK8S_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mk8s-cluster}
BIN=$CACHE/k8s-v$K8S_VERSION/bin
STAGING=v0.${K8S_VERSION#1.}
MINOR=$(echo "$K8S_VERSION" | cut -d. -f2)

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
mkdir -p "$BIN"
log() { echo "[cluster:build] $*" >&2; }

build_kubernetes() {
  local src=$CACHE/src-k8s-v$K8S_VERSION
  mkdir -p "$src" && cd "$src"
  [ -f go.mod ] || go mod init local.test/k8sbin >/dev/null 2>&1
  # Staging modules are required at v0.0.0 and replaced by local paths in the
  # kubernetes go.mod; a dependant must map each to its published v0.X.Y tag.
  local kmod
  kmod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) v0\.0\.0\( // indirect\)\{0,1\}$#\1#p' "$kmod"); do
    go mod edit -replace="$m=$m@$STAGING"
  done
  go get "k8s.io/kubernetes@v$K8S_VERSION" >/dev/null
  local v=k8s.io/component-base/version
  local ldflags="-s -w -X $v.gitVersion=v$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$MINOR \
 -X $v.gitTreeState=clean -X $v.buildDate=2000-01-01T00:00:00Z \
 -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  go list -m -f '{{.Version}}' go.etcd.io/etcd/client/v3 > "$BIN/../etcd-version"
}

build_etcd() {
  local ev; ev=$(cat "$BIN/../etcd-version")
  local src=$CACHE/src-etcd-$ev
  mkdir -p "$src" && cd "$src"
  [ -f go.mod ] || go mod init local.test/etcdbin >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ev" >/dev/null
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  # kwok is built on its own: the staging replaces above would break it.
  GOBIN=$BIN go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  if [ ! -x "$BIN/$b" ] || [ ! -f "$BIN/../etcd-version" ]; then
    log "building Kubernetes v$K8S_VERSION (cold build: 10-20 minutes)"; build_kubernetes; break
  fi
done
[ -x "$BIN/etcd" ] || { log "building etcd $(cat "$BIN/../etcd-version")"; build_etcd; }
[ -x "$BIN/kwok" ] || { log "building kwok $KWOK_VERSION"; build_kwok; }
echo "$BIN"
