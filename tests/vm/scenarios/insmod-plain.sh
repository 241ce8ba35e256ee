# A plain (uncompressed) module loads with kmx insmod through finit_module, its parameters
# show under /sys/module/NAME/parameters, and kmx rmmod removes it again.
guest() {
  cat <<'G'
lab_clean
run insmod env KMX_DEBUG=1 /lab/kmx/insmod /lab/mods/kmx_lab_a.ko answer=7 label=hello
result answer "$(cat /sys/module/kmx_lab_a/parameters/answer)"
result label "$(cat /sys/module/kmx_lab_a/parameters/label)"
result initstate "$(cat /sys/module/kmx_lab_a/initstate)"
result in-proc "$(grep -c '^kmx_lab_a ' /proc/modules)"
run rmmod kmx rmmod kmx_lab_a
result gone "$([ -d /sys/module/kmx_lab_a ] && echo no || echo yes)"
# By path, as kmod's rmmod accepts it, and with -v.
kmx insmod /lab/mods/kmx_lab_a.ko
run rmmod-path kmx rmmod -v /lab/mods/kmx_lab_a.ko
result gone-path "$([ -d /sys/module/kmx_lab_a ] && echo no || echo yes)"
lab_clean
G
}

check() {
  expect_rc insmod 0
  expect_err insmod '^insmod: DEBUG: finit_module, file compression none$'
  expect_res answer 7
  expect_res label hello
  expect_res initstate live
  expect_res in-proc 1
  expect_rc rmmod 0
  expect_res gone yes
  expect_rc rmmod-path 0
  expect_res gone-path yes
}
