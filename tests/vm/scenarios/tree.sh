# The whole Debian module tree on a disk: real modules with dependencies (bridge -> stp, llc;
# 8021q -> garp, mrp; vfat -> fat; ppdev -> parport; ...) load with kmx insmod in the order
# kmod's modprobe --show-depends gives, kmx lsmod then matches kmod's lsmod, and kmx rmmod
# removes them all again. On 6.12 the tree is .ko.xz, which the kernel decompresses itself.
lab_tree_modules="all"

guest() {
  cat <<'G'
result mounted "$(grep -c ' /lib/modules ' /proc/mounts)"
cp /proc/modules /tmp/modules.before
order=""
for m in bridge 8021q vfat ppdev loop tun dummy nls_utf8; do
  for p in $(kmod modprobe --show-depends $m | awk '$1 == "insmod" { print $2 }'); do
    case " $order " in *" $p "*) ;; *) order="$order $p" ;; esac
  done
done
result count "$(echo $order | wc -w)"
failed=0
for p in $order; do
  n=${p##*/}
  n=${n%%.*}
  if [ "$n" = dummy ]; then args=numdummies=0; else args=; fi
  run "tree-insmod-$n" env KMX_DEBUG=1 /lab/kmx/insmod "$p" $args || failed=$((failed + 1))
done
result insmod-failures $failed
result method "$(cat /tmp/tree-insmod-*.err | sed -n 's/^insmod: DEBUG: //p' | sort -u | tr '\n' ';')"
run kmod-lsmod kmod lsmod
run kmx-lsmod kmx lsmod
same lsmod-identical /tmp/kmod-lsmod.out /tmp/kmx-lsmod.out
failed=0
for p in $(echo $order | tr ' ' '\n' | sed '1!G;h;$!d'); do
  n=${p##*/}
  n=${n%%.*}
  kmx rmmod "$n" || failed=$((failed + 1))
done
result rmmod-failures $failed
same back-to-start /tmp/modules.before /proc/modules
G
}

check() {
  expect_res mounted 1
  local count
  count=$(res count)
  [ "${count:-0}" -ge 14 ] && passed "$count modules to load" || failed "only '${count}' modules to load"
  expect_res insmod-failures 0
  if [ "$K" = 6.1 ]; then
    expect_res method 'finit_module, file compression none;'
  else
    expect_res method 'finit_module(MODULE_INIT_COMPRESSED_FILE), file compression xz;'
  fi
  expect_same kmx-lsmod kmod-lsmod
  expect_res lsmod-identical yes
  expect_res rmmod-failures 0
  expect_res back-to-start yes
}
