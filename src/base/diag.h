// Diag: a sink for recoverable problems (a bad module in a tree, a bad config line).
// Library code reports here instead of printing; the tool decides how to show them
// (kmod's "prog: WARNING: ..." / "prog: ERROR: ...").
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace kmx {

enum class Severity { info, warning, error };

struct DiagMessage {
  Severity severity;
  std::string msg;
};

class Diag {
public:
  using Handler = std::function<void(const DiagMessage &)>;
  Diag() = default;
  explicit Diag(Handler h) : handler_(std::move(h)) {}

  void report(Severity s, std::string msg) {
    DiagMessage m{s, std::move(msg)};
    if (s == Severity::error) errors_++;
    if (s == Severity::warning) warnings_++;
    if (handler_) handler_(m);
    else messages_.push_back(std::move(m));
  }
  void warn(std::string msg) { report(Severity::warning, std::move(msg)); }
  void error(std::string msg) { report(Severity::error, std::move(msg)); }

  int errors() const { return errors_; }
  int warnings() const { return warnings_; }
  // Messages collected when no handler is installed (tests, per-slot buffering).
  const std::vector<DiagMessage> &messages() const { return messages_; }

private:
  Handler handler_;
  std::vector<DiagMessage> messages_;
  int errors_ = 0;
  int warnings_ = 0;
};

}  // namespace kmx
