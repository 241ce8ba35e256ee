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
  std::vector<std::string> mok_files;  // --mok: the enrolled Machine Owner Keys (certificates)
  std::string api_file;                // --api-changes ("" = default_api_changes())
  std::string report_dir;  // --report-dir: DIR/check-REL.txt and .json per kernel judged
  bool hook = false;       // --hook: the summary only; exit 0 unless kmx.conf says strict
};
int check_installed(const InstalledOptions &o);

// data/api-changes.tsv: $KMX_API_CHANGES, else beside the binary (../data, ../share/kmx); ""
// when there is none.
std::string default_api_changes();
// The known API changes of `file` (--api-changes), or of default_api_changes() when "" (none
// when there is no file).
Result<std::vector<ApiChange>> read_api_changes(const std::string &file);

// --secure-boot and --mok FILE... into `state` (kmx check, with or without --installed): the
// enrolled MOKs are the certificates of the files; with none given and no --secure-boot, when
// `machine` (the target is this running machine) the firmware's Secure Boot state and MokListRT
// (or `mokutil --export`). Under --secure-boot with no MOK known, mok_unknown says that those of
// `target` were not given (`target` "": none are enrolled). An error names a certificate file
// that cannot be read.
Status apply_key_options(TargetState &state, const std::vector<std::string> &mok_files, bool secure_boot,
                         bool machine, const std::string &target);

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
