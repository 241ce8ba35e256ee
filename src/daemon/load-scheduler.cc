#include "daemon/load-scheduler.h"

#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "base/parallel.h"

namespace kmx {
namespace {

enum class ModState { running, ok, failed };

struct Claims {
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, ModState> state;
};

void run_chain(const LoadChain &chain, size_t ci, Claims &claims, const StepRunner &run, ChainResult &out) {
  out.steps.assign(chain.steps.size(), StepOutcome::not_reached);
  bool skipping = false;
  size_t skip_segment = 0;
  for (size_t si = 0; si < chain.steps.size(); si++) {
    const LoadStep &step = chain.steps[si];
    if (skipping && step.segment == skip_segment) continue;
    skipping = false;
    bool mine = false, ok = false;
    {
      std::unique_lock lock(claims.mu);
      auto it = claims.state.find(step.module);
      if (it == claims.state.end()) {
        claims.state.emplace(step.module, ModState::running);
        mine = true;
      } else {
        claims.cv.wait(lock, [&] { return it->second != ModState::running; });
        ok = it->second == ModState::ok;
      }
    }
    if (mine) {
      Status st = run(ci, si);
      ok = static_cast<bool>(st);
      {
        std::lock_guard lock(claims.mu);
        claims.state[step.module] = ok ? ModState::ok : ModState::failed;
      }
      claims.cv.notify_all();
      out.steps[si] = ok ? StepOutcome::loaded : StepOutcome::failed;
      if (!ok) out.errors.push_back(st.error());
    } else {
      out.steps[si] = ok ? StepOutcome::done_elsewhere : StepOutcome::failed_elsewhere;
    }
    if (!ok && step.required) {
      skipping = true;
      skip_segment = step.segment;
    }
  }
}

}  // namespace

std::vector<ChainResult> run_load_chains(const std::vector<LoadChain> &chains, unsigned jobs, const StepRunner &run) {
  std::vector<ChainResult> results(chains.size());
  Claims claims;
  parallel_for_each(
      chains.size(), [&](size_t i) { run_chain(chains[i], i, claims, run, results[i]); }, jobs);
  return results;
}

}  // namespace kmx
