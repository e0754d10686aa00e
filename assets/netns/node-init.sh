#!/bin/bash
# PID 1 of one halab netns node. halab starts it as
#   setsid unshare --mount --uts --net --pid --ipc --fork --mount-proc --propagation private \
#       bash node-init.sh NODE MOUNTS_FILE
# so it runs in fresh mount/uts/net/pid/ipc namespaces with private mount propagation: nothing
# mounted here is seen by the host. MOUNTS_FILE has one mount a line: KIND SOURCE TARGET.
node=$1 mounts=$2
set -e
hostname "$node"
while read -r kind src dst; do
  [ -n "$kind" ] || continue
  if [ ! -e "$dst" ]; then echo "halab node-init: no $dst on this host; not mounted" >&2; continue; fi
  case $kind in
    bind)   mount --bind "$src" "$dst" ;;
    robind) mount --bind "$src" "$dst"; mount -o remount,bind,ro "$dst" ;;
    tmpfs)  mount -t tmpfs -o "$src" tmpfs "$dst" ;;
    sysfs)  mount -t sysfs sysfs "$dst" ;;
    *)      echo "halab node-init: unknown mount kind $kind" >&2; exit 1 ;;
  esac
done < "$mounts"
# The host's own files are read-only inside a node: a trainee's `apt install` or a stray
# `> /etc/...` fails here instead of changing the host. Only the node's own directories are writable.
mount -o remount,bind,ro /
ip link set lo up
set +e
touch /run/halab-ready
trap 'exit 0' TERM INT
# bash reaps re-parented orphans (daemons double-fork) whenever `wait` returns.
while :; do sleep 2147483647 & wait $!; done
