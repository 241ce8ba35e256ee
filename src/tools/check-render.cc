#include "tools/check-render.h"

#include <fmt/core.h>

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace kmx {

namespace {
std::string html_escape(const std::string &s) {
  std::string o;
  for (char c : s) {
    switch (c) {
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '&': o += "&amp;"; break;
    case '"': o += "&quot;"; break;
    default: o += c;
    }
  }
  return o;
}

[[gnu::format(printf, 2, 3)]] void appendf(std::string &out, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof buf) {
    out.append(buf, static_cast<size_t>(n));
    return;
  }
  size_t at = out.size();
  out.resize(at + static_cast<size_t>(n) + 1);
  va_start(ap, fmt);
  std::vsnprintf(out.data() + at, static_cast<size_t>(n) + 1, fmt, ap);
  va_end(ap);
  out.resize(at + static_cast<size_t>(n));
}

// The symbol a step is about ("symbol foo" -> "foo"), or "".
std::string_view step_symbol(const CheckStep &c) {
  std::string_view n = c.name;
  return n.starts_with("symbol ") ? n.substr(7) : std::string_view();
}


constexpr size_t kShown = 3;  // lines of a group shown before the line that counts the rest

// Symbol steps that did not pass, per (check id, result): "F4 refuse" -> the symbols.
std::map<std::pair<std::string, StepResult>, std::vector<std::string>> symbol_groups(const LoadVerdict &v) {
  std::map<std::pair<std::string, StepResult>, std::vector<std::string>> groups;
  for (const auto &c : v.checks)
    if (c.result != StepResult::pass && !step_symbol(c).empty()) groups[{c.id, c.result}].emplace_back(step_symbol(c));
  return groups;
}

// The symbols of groups large enough to collapse: their kernel lines and hints collapse too.
std::set<std::string> collapsed_symbols(
    const std::map<std::pair<std::string, StepResult>, std::vector<std::string>> &groups) {
  std::set<std::string> out;
  for (const auto &[key, syms] : groups)
    if (syms.size() > kShown + 1) out.insert(syms.begin(), syms.end());
  return out;
}

// `lines` with those about collapsed symbols grouped by form (the line with the symbol taken
// out): the first kShown of each form, then '... and N more like "FORM"'.
std::vector<std::string> collapse_lines(const std::vector<std::string> &lines, const std::set<std::string> &syms) {
  // The line with its first word that is a collapsed symbol replaced by \x01; "" if none.
  auto form = [&](const std::string &l) -> std::string {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
    for (size_t i = 0; i < l.size();) {
      if (!word(l[i])) {
        i++;
        continue;
      }
      size_t j = i;
      while (j < l.size() && word(l[j])) j++;
      if (syms.contains(l.substr(i, j - i))) return l.substr(0, i) + '\x01' + l.substr(j);
      i = j;
    }
    return "";
  };
  std::map<std::string, size_t> count, printed;
  std::vector<std::string> forms;
  forms.reserve(lines.size());
  for (const auto &l : lines) {
    forms.push_back(syms.empty() ? std::string() : form(l));
    if (!forms.back().empty()) count[forms.back()]++;
  }
  std::vector<std::string> out;
  for (size_t n = 0; n < lines.size(); n++) {
    const std::string &f = forms[n];
    if (f.empty() || count[f] <= kShown + 1) {
      out.push_back(lines[n]);
      continue;
    }
    size_t i = printed[f]++;
    if (i < kShown) {
      out.push_back(lines[n]);
    } else if (i == kShown) {
      std::string like = f;
      like.replace(like.find('\x01'), 1, "...");
      out.push_back(fmt::format("... and {} more like \"{}\"", count[f] - kShown, like));
    }
  }
  return out;
}

}  // namespace

// Appends one verdict as an element of a top-level array: the bytes nlohmann's dump(2) writes
// for it inside the array (keys sorted), so that verdicts are written as they are made instead
// of as one document. Invalid UTF-8 (a hostile .modinfo or file name) becomes U+FFFD instead of
// an exception in a worker thread.
void append_json(std::string &out, const LoadVerdict &v, const KernelProfile &k) {
  using json = nlohmann::json;
  json checks = json::array();
  for (const CheckStep &c : v.checks)
    checks.push_back({{"check", c.name}, {"detail", c.detail}, {"id", c.id}, {"result", result_name(c.result)}});
  json element = {
      {"check_id", v.loads ? json(nullptr) : json(v.check_id)},
      {"checks", std::move(checks)},
      {"complete", v.complete},
      {"err", v.err},
      {"errno", v.loads ? json(nullptr) : json(v.errno_name)},
      {"hints", v.hints},
      {"kernel", k.release},
      {"loads", v.loads},
      {"messages", v.messages},
      {"module", v.module},
      {"path", v.path},
      {"taint", v.taint},
      {"undecided", v.undecided()},
  };
  // The element's lines as dump(2) indents them inside an array: "[\n" + element + "\n]".
  std::string doc = json::array({std::move(element)}).dump(2, ' ', false, json::error_handler_t::replace);
  out.append(doc, 2, doc.size() - 4);
}

// One verdict as text. Unless `verbose`, findings that repeat per symbol (a module built for
// another kernel fails the same check for a hundred symbols) are grouped: the first few, then
// one line with the count and more names.
void append_text(std::string &out, const LoadVerdict &v, const KernelProfile &k, bool colour, bool verbose) {
  const char *red = colour ? "\033[31m" : "", *yellow = colour ? "\033[33m" : "",
             *green = colour ? "\033[32m" : "", *off = colour ? "\033[0m" : "";
  const std::string rel = k.release.empty() ? "a kernel of unknown release" : k.release;
  auto undecided = v.undecided();
  std::string nd = undecided.empty() ? ""
                                     : fmt::format(" ({} check{} not decided: {})", undecided.size(),
                                                   undecided.size() == 1 ? "" : "s", join(undecided, ", "));
  if (!v.loads)
    appendf(out, "%s: %sREFUSED%s by %s (%s, %s)\n", v.path.c_str(), red, off, rel.c_str(),
            v.errno_name.c_str(), v.check_id.c_str());
  else if (!v.taint.empty())
    appendf(out, "%s: %sloads, taints %s%s%s in %s\n", v.path.c_str(), yellow, v.taint.c_str(),
            nd.c_str(), off, rel.c_str());
  else
    appendf(out, "%s: %sloads%s%s in %s\n", v.path.c_str(), nd.empty() ? green : yellow, nd.c_str(), off,
            rel.c_str());
  // --verbose: where the kernel's facts came from (every verdict rests on them).
  if (verbose && !k.sources.empty()) appendf(out, "  kernel facts from: %s\n", join(k.sources, "; ").c_str());
  auto group_syms = symbol_groups(v);
  std::set<std::string> grouped_syms = collapsed_symbols(group_syms);
  std::map<std::pair<std::string, StepResult>, size_t> seen;
  for (const auto &c : v.checks) {
    if (c.result == StepResult::pass) continue;
    auto sym = step_symbol(c);
    if (!verbose && !sym.empty()) {
      const auto &all = group_syms[{c.id, c.result}];
      size_t i = seen[{c.id, c.result}]++;
      if (all.size() > kShown + 1 && i >= kShown) {
        if (i == kShown) {
          std::vector<std::string> more(all.begin() + kShown, all.begin() + std::min(all.size(), kShown + 5));
          appendf(out, "  %-4s %-22s %-7s and %zu more symbols: %s%s (--verbose lists each)\n", c.id.c_str(),
                  "symbols", result_name(c.result), all.size() - kShown, join(more, ", ").c_str(),
                  all.size() > kShown + 5 ? ", ..." : "");
        }
        continue;
      }
    }
    appendf(out, "  %-4s %-22s %-7s %s\n", c.id.c_str(), c.name.c_str(), result_name(c.result), c.detail.c_str());
  }
  if (verbose) grouped_syms.clear();
  for (const auto &l : collapse_lines(v.messages, grouped_syms)) appendf(out, "  kernel: %s\n", l.c_str());
  if (!v.loads && !v.taint.empty()) appendf(out, "  the kernel is tainted %s before it refuses\n", v.taint.c_str());
  for (const auto &l : collapse_lines(v.hints, grouped_syms)) appendf(out, "  hint: %s\n", l.c_str());
}

namespace {

// The check ids of load-check.h, for the report's legend.
constexpr std::pair<const char *, const char *> kLegend[] = {
    {"A5", "compression: whether the kernel or kmod decompresses the module"},
    {"B1", "signature verified by a key the kernel trusts"},
    {"B2", "unsigned: loads, taints E"},
    {"B3", "signed by a key the kernel does not have: loads, taints E"},
    {"B4", "signature missing or untrusted while signatures are enforced: refused"},
    {"B5", "signature missing or untrusted under lockdown (Secure Boot): refused"},
    {"B6", "signature does not verify or is malformed: refused"},
    {"C1", "ELF header length (an empty file: EINVAL)"},
    {"C2", "ELF magic"},
    {"C3", "ELF type: a module is ET_REL"},
    {"C4", "architecture (e_machine, ELF class, byte order)"},
    {"C5", "ELF section header size"},
    {"C8", ".gnu.linkonce.this_module present"},
    {"C10", "sizeof(struct module): the module was built for this kernel's configuration"},
    {"D1", "module_blacklist= on the command line"},
    {"D2", "module_layout CRC (CONFIG_MODVERSIONS)"},
    {"D3", "module_layout missing from __versions"},
    {"D4", "no __versions: forced load, taints F"},
    {"D5", "vermagic"},
    {"D6", "no vermagic: forced load, taints F"},
    {"D7", "livepatch module on a kernel without CONFIG_LIVEPATCH"},
    {"D8", "a module of that name is loaded already"},
    {"D9", "import of a module: namespace (6.16+)"},
    {"E", "taints from .modinfo and name: O out-of-tree, C staging, K livepatch, P licence, N test"},
    {"F1", "symbol not exported by the kernel or a loaded module"},
    {"F2", "GPL-only symbol used by a non-GPL module"},
    {"F3", "symbol of a proprietary module: taint inherited or refused"},
    {"F4", "symbol CRC differs (the symbol's types changed)"},
    {"F5", "symbol without a CRC in __versions"},
    {"F9", "symbol namespace not imported (MODULE_IMPORT_NS)"},
    {"G1", "module exports a symbol the kernel already has"},
    {"G3", "module exports without CRCs: taints F"},
    {"M1", "missing after reboot: the machine uses the module and this kernel has no build of it"},
};

// The class and head line of a verdict in the report.
std::pair<const char *, std::string> verdict_head(const LoadVerdict &v) {
  if (!v.loads) return {"refused", "refused " + v.errno_name + " (" + v.check_id + ")"};
  auto nd = v.undecided();
  if (!nd.empty()) return {"undecided", "not decided: " + join(nd, ", ")};
  if (!v.taint.empty()) return {"taints", "loads, taints " + v.taint};
  return {"loads", "loads cleanly"};
}

std::string utc_date() {
  std::time_t t = std::time(nullptr);
  if (const char *e = std::getenv("SOURCE_DATE_EPOCH")) t = static_cast<std::time_t>(std::strtoll(e, nullptr, 10));
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

constexpr const char *kStyle =
    "*{box-sizing:border-box}"
    "body{font-family:sans-serif;margin:0 auto;max-width:90rem;padding:.5rem;line-height:1.35;overflow-wrap:anywhere}"
    "h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.5rem}h3{font-size:1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.25rem .4rem;text-align:left;"
    "vertical-align:top}th{background:#eee}td.n{text-align:right}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3rem 0;font-size:85%}"
    "summary{cursor:pointer;padding:.2rem .3rem}details{margin:.25rem 0}details details{margin-left:1rem}"
    ".refused>summary{background:#fcc}.undecided>summary{background:#ddd}.taints>summary{background:#ffc}"
    ".loads>summary{background:#cfc}dl{display:grid;grid-template-columns:minmax(2.5rem,max-content) 1fr;"
    "gap:.2rem .8rem}dt{font-weight:bold}dd{margin:0}ul{padding-left:1.2rem}";

}  // namespace

std::string html_report(const std::vector<std::vector<LoadVerdict>> &verdicts,
                        const std::vector<KernelProfile> &profiles, const ReportInputs &inputs) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<title>kmx check report</title><style>";
  h += kStyle;
  h += "</style></head><body>\n<h1>kmx check</h1>\n";
  h += fmt::format("<p>kmx {} &middot; {} &middot; {} module{} &times; {} kernel{}</p>\n", KMX_VERSION, utc_date(),
                   verdicts.size(), verdicts.size() == 1 ? "" : "s", profiles.size(), profiles.size() == 1 ? "" : "s");
  // Summary: per kernel, modules per verdict.
  h += "<h2>Summary</h2>\n<table id=\"summary\"><thead><tr><th>kernel</th><th>loads cleanly</th><th>loads, taints</th>"
       "<th>refused</th><th>not decided</th></tr></thead><tbody>\n";
  for (size_t k = 0; k < profiles.size(); k++) {
    std::map<std::string, size_t> n;
    for (const auto &row : verdicts)
      if (k < row.size() && !row[k].module.empty()) n[verdict_head(row[k]).first]++;
    h += fmt::format("<tr data-kernel=\"{}\"><td>{}</td>", html_escape(profiles[k].release),
                     html_escape(profiles[k].release.empty() ? "(unknown release)" : profiles[k].release));
    for (const char *c : {"loads", "taints", "refused", "undecided"})
      h += fmt::format("<td class=\"n\" data-count=\"{}\">{}</td>", c, n[c]);
    h += "</tr>\n";
  }
  h += "</tbody></table>\n";
  // Findings: per kernel, modules grouped by identical verdict; each module's lines on click.
  h += "<h2>Findings</h2>\n";
  for (size_t k = 0; k < profiles.size(); k++) {
    h += "<h3>" + html_escape(profiles[k].release.empty() ? "(unknown release)" : profiles[k].release) + "</h3>\n";
    std::map<std::pair<int, std::string>, std::vector<const LoadVerdict *>> groups;
    for (const auto &row : verdicts) {
      if (k >= row.size() || row[k].module.empty()) continue;  // no verdict for this kernel
      auto [cls, head] = verdict_head(row[k]);
      int order = std::string_view(cls) == "refused" ? 0 : std::string_view(cls) == "undecided" ? 1
                  : std::string_view(cls) == "taints" ? 2 : 3;
      groups[{order, head}].push_back(&row[k]);
    }
    for (const auto &[key, mods] : groups) {
      auto cls = verdict_head(*mods[0]).first;
      h += fmt::format("<details class=\"group {}\"><summary>{} &mdash; {} module{}</summary>\n", cls,
                       html_escape(key.second), mods.size(), mods.size() == 1 ? "" : "s");
      for (const LoadVerdict *v : mods) {
        std::string body;
        for (const auto &c : v->checks)
          if (c.result == StepResult::unknown) body += html_escape("not decided: " + c.id + " " + c.name + ": " + c.detail) + "\n";
        auto syms = collapsed_symbols(symbol_groups(*v));
        for (const auto &l : collapse_lines(v->messages, syms)) body += "kernel: " + html_escape(l) + "\n";
        if (!v->loads && !v->taint.empty()) body += "the kernel is tainted " + html_escape(v->taint) + " before it refuses\n";
        for (const auto &l : collapse_lines(v->hints, syms)) body += "hint: " + html_escape(l) + "\n";
        h += fmt::format("<details class=\"module\"><summary>{}</summary><pre>{}{}</pre></details>\n",
                         html_escape(v->module), html_escape(v->path) + "\n", body);
      }
      h += "</details>\n";
    }
  }
  h += "<h2>Check ids</h2>\n<dl id=\"legend\">";
  for (const auto &[id, what] : kLegend) h += fmt::format("<dt>{}</dt><dd>{}</dd>", id, html_escape(what));
  h += "</dl>\n<h2>Inputs</h2>\n<ul id=\"inputs\">\n";
  for (size_t k = 0; k < profiles.size(); k++) {
    h += "<li>kernel " + html_escape(profiles[k].release) + ": " +
         html_escape(k < inputs.kernel_specs.size() ? inputs.kernel_specs[k] : "") + "<br>learnt from: " +
         html_escape(join(profiles[k].sources, "; ")) + "</li>\n";
  }
  h += "<li>modules: " + html_escape(join(inputs.modules, " ")) + "</li>\n";
  if (!inputs.state.empty()) h += "<li>target state and options: " + html_escape(inputs.state) + "</li>\n";
  h += "</ul>\n</body></html>\n";
  return h;
}

}  // namespace kmx
