# kmx check's HTML report in a real browser (Debian's chromium, headless): the report of a
# two-kernel run over real modules (loads, taints, refusals, a file that is not a module) is
# laid out at 360 px and at 1920 px with every <details> open, and no element may reach past
# the viewport or overflow its box; the summary table's counts per kernel must equal the
# counts of the --json output of the same run. The report is loaded into an iframe (srcdoc) of
# exactly that width, since headless windows have a minimum width.
source "$(dirname "$0")/common.sh"
need python3
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "chromium not installed (scripts/setup.sh installs it)"
check_kernels
export KMX_CACHE_DIR=$TMP/cache
# Modules: a directory of real ones (e1000e's 6.1 build fails ~100 CRCs on 6.12), one file that
# is not a module, and a very long file name (wrapping).
mods=$r1/lib/modules/$rel1/kernel/drivers/net/ethernet/intel
echo "not a module" >"$TMP/not_a_module_with_a_rather_long_name_that_has_to_wrap_somewhere_on_a_phone.ko"
args=(--all --kernels "$r1,$s1" "$r2,$s2" -- "$mods" "$TMP/not_a_module_with_a_rather_long_name_that_has_to_wrap_somewhere_on_a_phone.ko")
"$KMX" check --html "$TMP/report.html" "${args[@]}" >/dev/null || true
"$KMX" check --json "${args[@]}" >"$TMP/run.json" || true
[ -s "$TMP/report.html" ] || fail "no report written"
grep -q 'id="legend"' "$TMP/report.html" && grep -q 'id="inputs"' "$TMP/report.html" || fail "no legend or inputs"

# The page that frames the report at one width and writes its measurements into the DOM.
python3 - "$TMP/report.html" "$TMP" <<'PY'
import html, sys
report = open(sys.argv[1]).read()
for width in (360, 1920):
    page = f"""<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:{width}px;height:3000px;border:0" srcdoc="{html.escape(report, quote=True)}"></iframe>
<script>
window.onload = () => {{
  const d = document.getElementById('f').contentDocument;
  d.documentElement.style.scrollbarWidth = 'none';  // as on a phone: the page keeps its full width
  for (const x of d.querySelectorAll('details')) x.open = true;
  const W = d.documentElement.clientWidth, bad = [];
  for (const el of d.body.querySelectorAll('*')) {{
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > W + 1 || r.left < -1) bad.push(el.tagName + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right));
    else if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) bad.push(el.tagName + ' overflows: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }}
  const counts = {{}};
  for (const tr of d.querySelectorAll('#summary tbody tr')) {{
    counts[tr.dataset.kernel] = {{}};
    for (const td of tr.querySelectorAll('td[data-count]')) counts[tr.dataset.kernel][td.dataset.count] = +td.textContent;
  }}
  const out = document.createElement('pre');
  out.id = 'result';
  out.textContent = JSON.stringify({{width: W, scroll: d.documentElement.scrollWidth, bad: bad.slice(0, 10), nbad: bad.length, counts}});
  document.body.appendChild(out);
}};
</script></body></html>"""
    open(f"{sys.argv[2]}/frame-{width}.html", "w").write(page)
PY

for width in 360 1920; do
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --window-size=2000,3200 --virtual-time-budget=10000 \
    --dump-dom "file://$TMP/frame-$width.html" >"$TMP/dom-$width.html" 2>/dev/null || fail "chromium failed at $width px"
  python3 - "$TMP/dom-$width.html" "$TMP/run.json" "$width" <<'PY' || fail "report at ${width} px"
import html, json, re, sys
m = re.search(r'<pre id="result">(.*?)</pre>', open(sys.argv[1]).read(), re.S)
assert m, "no measurements in the page"
res = json.loads(html.unescape(m.group(1)))
width = int(sys.argv[3])
assert res["width"] == width, f"viewport {res['width']}, want {width}"
assert res["scroll"] <= width, f"page scrolls sideways: {res['scroll']} > {width}"
assert res["nbad"] == 0, f"{res['nbad']} elements overflow: {res['bad']}"
# The summary equals the JSON of the same run.
want = {}
for v in json.load(open(sys.argv[2])):
    c = want.setdefault(v["kernel"], {"loads": 0, "taints": 0, "refused": 0, "undecided": 0})
    key = "refused" if not v["loads"] else "undecided" if v["undecided"] else "taints" if v["taint"] else "loads"
    c[key] += 1
assert res["counts"] == want, f"summary {res['counts']} != json {want}"
print(f"ok: {width} px, summary {res['counts']}")
PY
done
echo "ok: check-html"
