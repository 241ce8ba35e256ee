# Sourced by /init when the boot has a module tree disk: load the drivers for it (copied in
# load order to /lab/tree-boot by lib.sh) with kmod's insmod, and mount it on /lib/modules.
if [ -d /lab/tree-boot ]; then
  for m in /lab/tree-boot/*; do
    /lab/kmod/insmod "$m" || echo "KMX-TREE insmod $m failed"
  done
  i=0
  while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if mount -t ext4 /dev/vda /lib/modules; then
    echo "KMX-TREE mounted"
  else
    echo "KMX-TREE mount failed"
  fi
fi
