# The man pages (docs/man/*.scd): each renders with scdoc, mandoc's linter finds nothing in
# the result (scdoc's own preamble paragraphs aside), no source line starts with a roff
# control character, every kmx-only tool's long options and commands from its --help appear
# in its page, and the page of each command and file the README names exists.
source "$(dirname "$0")/common.sh"
command -v scdoc >/dev/null || skip "scdoc not installed (scripts/setup.sh installs it)"
command -v mandoc >/dev/null || skip "mandoc not installed (scripts/setup.sh installs it)"
man=$KMX_SRC/docs/man
for page in kmx.8 kmx-check.1 kmx-abi-diff.1 kmx-scan.1 kmx-daemon.8 kmx-autoclean.8 kmx-persist.8 kmx.conf.5; do
  [ -f "$man/$page.scd" ] || fail "no man page $page"
done
n=0
for src in "$man"/*.scd; do
  page=$(basename "$src" .scd)
  scdoc <"$src" >"$TMP/$page" 2>"$TMP/err" || fail "$page: scdoc: $(cat "$TMP/err")"
  head -n1 "$src" | grep -qx "${page%.*}(${page##*.})" || fail "$page: the first line must be ${page%.*}(${page##*.})"
  # scdoc starts every page with .PP right after .SH; mandoc calls that a skipped paragraph.
  mandoc -T lint -W warning "$TMP/$page" 2>&1 | grep -v "skipping paragraph macro" >"$TMP/lint" || true
  [ ! -s "$TMP/lint" ] || fail "$page: mandoc: $(head -n5 "$TMP/lint")"
  ! grep -nE "^[[:space:]]*[.']" "$src" >"$TMP/ctl" || fail "$page: a line starts with a roff control character: $(cat "$TMP/ctl")"
  n=$((n + 1))
done
# Each kmx-only tool's --help, against its page: every long option and every command.
for tool in check abi-diff scan daemon autoclean persist; do
  page=$(ls "$man"/kmx-"$tool".*.scd)
  "$KMX" "$tool" --help >"$TMP/help" 2>&1 || true
  for opt in $(grep -oE -- '--[a-z][a-z-]+' "$TMP/help" | sort -u); do
    grep -qF -- "$opt" "$page" || fail "kmx $tool --help has $opt, $(basename "$page") does not"
  done
  if [ "$tool" = autoclean ] || [ "$tool" = persist ]; then
    for cmd in $(sed -n '/^Commands/,$p' "$TMP/help" | awk 'NR > 1 && /^  [a-z]/ {print $1}'); do
      grep -qE "^\*$cmd\*" "$page" || fail "kmx $tool command $cmd is not in $(basename "$page")"
    done
  fi
done
# kmx.conf(5) names every directive the parser knows (src/config/kmx-config.h lists them).
for d in $(sed -n 's|^//   \([a-z-]*\) .*|\1|p' "$KMX_SRC/src/config/kmx-config.h"); do
  grep -qE "^\*$d\*" "$man/kmx.conf.5.scd" || fail "kmx.conf(5) does not describe '$d'"
done
echo "ok: $n man pages"
