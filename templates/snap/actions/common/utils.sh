#!/usr/bin/env bash
# mk8s's own $SNAP/actions/common/utils.sh: the functions MicroK8s addon hooks call, with the same names, arguments
# and output. Service arguments, restarts and node addons go through the mk8s that runs the hook, which changes every
# node through its agent and records what changed; $SNAP_DATA/args keeps the view of one node in step.

mk8s_helper() {
  "$SNAP/mk8s-helper" "$@"
}

exit_if_no_permissions() {
  if [ ! -r "$SNAP_DATA/credentials/client.config" ]; then
    echo "Insufficient permissions to access the cluster: $SNAP_DATA/credentials/client.config is not readable." >&2
    exit 1
  fi
}

exit_if_stopped() {
  if [ -e "${SNAP_DATA}/var/lock/stopped.lock" ]; then
    echo "microk8s is not running, try microk8s start" >&2
    exit 1
  fi
}

exit_if_service_not_expected_to_start() {
  if [ -f "${SNAP_DATA}/var/lock/no-$1" ]; then
    exit 0
  fi
}

is_service_expected_to_start() {
  if [ -f "${SNAP_DATA}/var/lock/no-$1" ]; then echo "0"; else echo "1"; fi
}

set_service_not_expected_to_start() {
  touch "${SNAP_DATA}/var/lock/no-$1"
}

set_service_expected_to_start() {
  rm -rf "${SNAP_DATA}/var/lock/no-$1"
}

remove_vxlan_interfaces() {
  # Host network interfaces belong to the nodes: mk8s does not change them.
  echo "mk8s: remove_vxlan_interfaces changes nothing (host interfaces are the nodes' own)" >&2
}

run_with_sudo() {
  # The files a hook changes here are mk8s's and its user's: nothing needs root.
  if [ "$1" == "preserve_env" ]; then
    shift
  fi
  "$@"
}

get_opt_in_config() {
  local opt="$1"
  local config_file="$SNAP_DATA/args/$2"
  local val=""
  if grep -qE "^$opt=" "$config_file" 2>/dev/null; then
    val="$(grep -E "^$opt=" "$config_file" | cut -d'=' -f2)"
  elif grep -qE "^$opt " "$config_file" 2>/dev/null; then
    val="$(grep -E "^$opt " "$config_file" | cut -d' ' -f2)"
  fi
  echo "$val"
}

refresh_opt_in_local_config() {
  # The file only, as upstream; mk8s sends what changed in $SNAP_DATA/args to every node before the service restarts
  # and when the hook ends, as it does any edit of these files.
  local opt="--$1"
  local value="$2"
  local config_file="$SNAP_DATA/args/$3"
  touch "$config_file"
  if grep -qE "^$opt=" "$config_file"; then
    sed -i "s;^$opt=.*;$opt=$value;" "$config_file"
  else
    echo "$opt=$value" >> "$config_file"
  fi
}

skip_opt_in_local_config() {
  local opt="--$1"
  local config_file="$SNAP_DATA/args/$2"
  [ -e "$config_file" ] && sed -i "/$opt[= ]/d" "$config_file"
  return 0
}

refresh_opt_in_config() {
  # --OPT=VALUE in SERVICE's arguments on every node.
  mk8s_helper set "$3" "--$1" "$2"
}

skip_opt_in_config() {
  # --OPT removed from SERVICE's arguments on every node.
  mk8s_helper remove "$2" "--$1"
}

restart_service() {
  mk8s_helper restart "$1"
}

nodes_addon() {
  # Every node's agent enables or disables the addon on its node, as MicroK8s's distributed_op set_addon does.
  mk8s_helper addon "$1" "$2"
}

wait_for_service() {
  # Prints "fail" when the service does not answer within 30 seconds, as MicroK8s does.
  if ! mk8s_helper wait "$1"; then
    echo "fail"
  fi
}

wait_for_service_shutdown() {
  local namespace="$1"
  local labels="$2"
  local deadline=$(($(date +%s) + 30))
  while ("$SNAP/microk8s-kubectl.wrapper" get po -n "$namespace" -l "$labels" | grep -z " Terminating") &>/dev/null; do
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "fail"
      break
    fi
    sleep 2
  done
}

arch() {
  if [ "$SNAP_ARCH" == "ppc64el" ]; then echo "ppc64le"; else echo "$SNAP_ARCH"; fi
}

is_strict() {
  grep -qE "confinement: strict" "$SNAP/meta/snap.yaml"
}

snapshotter() {
  if [ "$(stat -f -c %T "${SNAP_COMMON}")" = "zfs" ]; then echo "native"; else echo "overlayfs"; fi
}

fetch_as() {
  # Downloads $1 to $2, following redirects; fails on an HTTP error.
  mk8s_helper fetch "$1" "$2"
}

is_apiserver_ready() {
  "$SNAP/microk8s-kubectl.wrapper" get --raw /readyz &>/dev/null
}

get_node() {
  local deadline=$(($(date +%s) + 60))
  while ! ("$SNAP/microk8s-kubectl.wrapper" get no | grep -z " Ready") &>/dev/null; do
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "no_node_found"
      return
    fi
    sleep 2
  done
  "$SNAP/microk8s-kubectl.wrapper" get no | grep ' Ready' | awk '{print $1}'
}

wait_for_node() {
  get_node &>/dev/null
}

use_manifest() {
  echo "mk8s: use_manifest reads manifests of the MicroK8s snap, which mk8s does not have: ship the manifest in the repository (addons/common/utils.sh use_addon_manifest)" >&2
  return 1
}

addon_name() {
  local IFS=':'
  read -ra ADD_ON <<< "$1"
  echo "${ADD_ON[0]}"
}

addon_arguments() {
  local IFS=':'
  read -ra ADD_ON <<< "$1"
  local IFS=';'
  read -ra ARGUMENTS <<< "${ADD_ON[1]}"
  echo "${ARGUMENTS[@]}"
}

valid_ip() {
  local ip=$1
  local stat=1
  if [[ $ip =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
    local OIFS=$IFS
    IFS='.'
    ip=($ip)
    IFS=$OIFS
    [[ ${ip[0]} -le 255 && ${ip[1]} -le 255 && ${ip[2]} -le 255 && ${ip[3]} -le 255 ]]
    stat=$?
  fi
  return $stat
}
