#include "daemon/load-scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/parallel.h"

namespace kmx {
namespace {

enum class ModState { running, ok, failed };

// Who runs each module of the batch: the first chain (or prefetch) to reach it.
struct Claim {
  ModState state = ModState::running;
  size_t chain = 0;      // the chain whose step it is
  size_t step = 0;
  bool prefetch = false; // run ahead by that chain's prefetch: the chain reports it as its own
  std::optional<Error> error;
  bool reported = false; // the owning chain has reported it
};

struct Claims {
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, Claim> state;
};

// Under claims.mu: claims step `si` of chain `ci` for the caller (nullptr), or returns the claim
// someone else already holds on that module.
Claim *claim_or_find(Claims &claims, const LoadStep &step, size_t ci, size_t si, bool prefetch) {
  auto [it, inserted] = claims.state.try_emplace(step.module, Claim{ModState::running, ci, si, prefetch, {}, !prefetch});
  return inserted ? nullptr : &it->second;
}

// Runs one step this caller has claimed and publishes the outcome.
Status run_claimed(Claims &claims, const LoadStep &step, size_t ci, size_t si, const StepRunner &run) {
  Status st = run(ci, si);
  {
    std::lock_guard lock(claims.mu);
    Claim &c = claims.state[step.module];
    c.state = st ? ModState::ok : ModState::failed;
    if (!st) c.error = st.error();
  }
  claims.cv.notify_all();
  return st;
}

void run_chain(const LoadChain &chain, size_t ci, Claims &claims, const StepRunner &run, ChainResult &out) {
  bool skipping = false;
  size_t skip_segment = 0;
  for (size_t si = 0; si < chain.steps.size(); si++) {
    const LoadStep &step = chain.steps[si];
    if (skipping && step.segment == skip_segment) continue;
    skipping = false;
    bool mine = false, ok = false, own_prefetch = false;
    std::optional<Error> error;
    {
      std::unique_lock lock(claims.mu);
      if (Claim *c = claim_or_find(claims, step, ci, si, false)) {
        claims.cv.wait(lock, [&] { return c->state != ModState::running; });
        ok = c->state == ModState::ok;
        if (c->prefetch && c->chain == ci && !c->reported) {
          own_prefetch = true;
          c->reported = true;
          error = c->error;
        }
      } else {
        mine = true;
      }
    }
    if (mine) {
      Status st = run_claimed(claims, step, ci, si, run);
      ok = static_cast<bool>(st);
      if (!ok) error = st.error();
    }
    if (mine || own_prefetch) {
      out.steps[si] = ok ? StepOutcome::loaded : StepOutcome::failed;
      if (!ok) out.errors.push_back(*error);
    } else {
      out.steps[si] = ok ? StepOutcome::done_elsewhere : StepOutcome::failed_elsewhere;
    }
    if (!ok && step.required) {
      skipping = true;
      skip_segment = step.segment;
    }
  }
}

// Loads the early steps (dependencies) of the chain's later segments ahead of the chain: the
// segments costliest first, each one's early steps in order. Never waits: a step that is being
// loaded by someone else ends that segment's prefetch (the chain itself waits for it when it
// gets there), as does a failure.
void prefetch_chain(const LoadChain &chain, size_t ci, Claims &claims, const StepRunner &run) {
  struct Segment {
    size_t first = 0, end = 0;  // step range
    u64 cost = 0;               // of its early steps
  };
  std::vector<Segment> segments;
  for (size_t si = 0; si < chain.steps.size(); si++) {
    if (si == 0 || chain.steps[si].segment != chain.steps[si - 1].segment) segments.push_back({si, si, 0});
    segments.back().end = si + 1;
    if (chain.steps[si].early) segments.back().cost += chain.steps[si].cost;
  }
  if (!segments.empty()) segments.erase(segments.begin());  // the chain starts there itself
  std::stable_sort(segments.begin(), segments.end(), [](const Segment &a, const Segment &b) { return a.cost > b.cost; });
  for (const Segment &seg : segments) {
    for (size_t si = seg.first; si < seg.end && chain.steps[si].early; si++) {
      const LoadStep &step = chain.steps[si];
      bool mine = false, go_on = false;
      {
        std::lock_guard lock(claims.mu);
        if (Claim *c = claim_or_find(claims, step, ci, si, true)) go_on = c->state == ModState::ok;
        else mine = true;
      }
      if (mine) go_on = static_cast<bool>(run_claimed(claims, step, ci, si, run));
      if (!go_on) break;
    }
  }
}

u64 chain_cost(const LoadChain &chain) {
  u64 c = 0;
  for (const LoadStep &s : chain.steps) c += s.cost;
  return c;
}

bool has_prefetch_work(const LoadChain &chain) {
  for (const LoadStep &s : chain.steps)
    if (s.early && s.segment != chain.steps.front().segment) return true;
  return false;
}

}  // namespace

unsigned load_jobs_default() { return default_jobs() + 1; }

std::vector<ChainResult> run_load_chains(const std::vector<LoadChain> &chains, unsigned jobs, const StepRunner &run) {
  if (jobs == 0) jobs = load_jobs_default();
  std::vector<ChainResult> results(chains.size());
  for (size_t i = 0; i < chains.size(); i++) results[i].steps.assign(chains[i].steps.size(), StepOutcome::not_reached);
  // Work items in start order: each chain, then (with more than one worker) its prefetch, so
  // that a free worker loads the next segments' dependencies while the chain loads in order.
  struct Item {
    size_t chain;
    bool prefetch;
  };
  std::vector<size_t> order(chains.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  if (jobs > 1) {
    std::vector<u64> cost(chains.size());
    for (size_t i = 0; i < chains.size(); i++) cost[i] = chain_cost(chains[i]);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  }
  std::vector<Item> items;
  for (size_t i : order) {
    items.push_back({i, false});
    if (jobs > 1 && has_prefetch_work(chains[i])) items.push_back({i, true});
  }
  Claims claims;
  parallel_for_each(
      items.size(),
      [&](size_t k) {
        const Item &it = items[k];
        if (it.prefetch) prefetch_chain(chains[it.chain], it.chain, claims, run);
        else run_chain(chains[it.chain], it.chain, claims, run, results[it.chain]);
      },
      jobs);
  // A prefetched step its chain never reached (not expected: the chain reaches every early step
  // whose predecessors the prefetch saw succeed) is still reported, in its own chain.
  for (auto &[name, c] : claims.state) {
    if (!c.prefetch || c.reported) continue;
    ChainResult &r = results[c.chain];
    r.steps[c.step] = c.state == ModState::ok ? StepOutcome::loaded : StepOutcome::failed;
    if (c.error) r.errors.push_back(*c.error);
  }
  return results;
}

}  // namespace kmx
