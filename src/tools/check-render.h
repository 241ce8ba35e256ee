// kmx check's renderers: a verdict as text (grouped findings, the "not decided" summary), as
// one element of the JSON array (nlohmann::json, dump(2) layout, streamed per module), and the
// self-contained HTML report of a whole run (summary per kernel, legend, inputs, findings
// grouped by verdict, details on click; readable from phone to desktop width).
#pragma once

#include <string>
#include <vector>

#include "base/strings.h"
#include "compat/kernel-profile.h"
#include "compat/load-check.h"

namespace kmx {

// One verdict as text. Unless `verbose`, findings repeated per symbol are grouped.
void append_text(std::string &out, const LoadVerdict &v, const KernelProfile &k, bool colour, bool verbose);

// One verdict as an element of a top-level JSON array.
void append_json(std::string &out, const LoadVerdict &v, const KernelProfile &k);

// kmx check --installed (tools/check-installed.cc).
struct InstalledOptions {
  std::string root = "/";
  std::string release;   // -k: this kernel only
  bool json = false, verbose = false, secure_boot = false, cmdline_given = false;
  std::string html;      // report file, "" = none
  std::string cmdline;   // --cmdline: replaces grub's and /proc/cmdline
  std::vector<std::string> mok_files;
  std::string report_dir;  // --report-dir: DIR/check-REL.txt and .json per kernel judged
  bool hook = false;       // --hook: the summary only; exit 0 unless kmx.conf says strict  // --mok: the enrolled Machine Owner Keys (certificates)
};
int check_installed(const InstalledOptions &o);

// What the report says it was made from.
struct ReportInputs {
  std::vector<std::string> kernel_specs;  // per profile, as given
  std::vector<std::string> modules;       // the operands
  std::string state;                      // command line, loaded set, taints, options
};

// The HTML report: verdicts[module][kernel] (the check list may hold only the "unknown" steps).
std::string html_report(const std::vector<std::vector<LoadVerdict>> &verdicts,
                        const std::vector<KernelProfile> &profiles, const ReportInputs &inputs);

}  // namespace kmx
