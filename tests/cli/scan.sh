# kmx scan: its module count, licence counts and signer counts for a real tree must equal
# what kmod's modinfo reports for the same files.
source "$(dirname "$0")/common.sh"
need_kmod modinfo

dir=$(tree_moddir amd64-6.1)
"$KMX" scan "$dir" > "$TMP/scan"
cat "$TMP/scan"
find "$dir" -name '*.ko*' | sort > "$TMP/list"
n=$(wc -l < "$TMP/list")
grep -q "^$n modules (0 unreadable)" "$TMP/scan" || fail "module count is not $n"

# "  COUNT  PCT%  VALUE" lines of one section of the scan output.
section() { awk -v t="$1" '$0 == t { on = 1; next } /^[^ ]/ { on = 0 } on { c = $1; $1 = ""; $2 = ""; sub(/^  /, ""); print c, $0 }' "$TMP/scan" | sort; }

# One licence per module (the first; some modules carry the key twice), "(none)" if absent.
while read -r f; do l=$(/usr/sbin/modinfo -F license "$f" | head -n 1); echo "${l:-(none)}"; done < "$TMP/list" | sort | uniq -c | awk '{ c = $1; $1 = ""; sub(/^ /, ""); print c, $0 }' \
  | sort -k1,1nr -k2 | head -n 8 | sort > "$TMP/kmod-licence"
section "licence:" | head -n 8 > "$TMP/kmx-licence"
same "licence counts" "$TMP/kmod-licence" "$TMP/kmx-licence"

xargs -a "$TMP/list" /usr/sbin/modinfo -F sig_hashalgo > "$TMP/algos"
xargs -a "$TMP/list" /usr/sbin/modinfo -F signer | paste -d'|' - "$TMP/algos" | sed 's/|\(.*\)/ (\1)/' | sort | uniq -c \
  | awk '{ c = $1; $1 = ""; sub(/^ /, ""); print c, $0 }' | sort > "$TMP/kmod-signer"
section "signature (signer, hash):" > "$TMP/kmx-signer"
same "signer counts" "$TMP/kmod-signer" "$TMP/kmx-signer"
echo "ok: scan agrees with kmod modinfo on $n modules"
