// Parallel loading of a batch of load chains (one chain per requested alias: the modules its
// lookup names, each preceded by its dependencies and softdeps in kmod's probe-list order).
//
// Chains run on a small worker pool (`jobs` threads, by default one more than the online CPUs:
// the kernel's load work, decompression, relocation, signature check and the module's init, runs
// in the calling thread, so independent modules load side by side; and part of it sleeps, in the
// wait for other modules' asynchronous probes at the end of every init and in RCU grace periods,
// which the extra worker fills; bench/ has the measurements). The guarantees:
//   * within a chain, steps run in order, so a module's dependencies are in the kernel before
//     it (probe lists put them first);
//   * each module name is loaded at most once per batch: the first chain to reach it claims it;
//     a chain that reaches a module another worker is loading waits for that load to finish;
//   * a failed module is reported once, in the chain that tried it; a chain that needs it later
//     sees it as failed elsewhere (no second attempt, no second error);
//   * a failure of a required step (a dependency, or the module itself) ends the rest of its
//     segment; the next segment (the lookup's next module) still runs.
//   * with more than one worker, a free worker may load the early steps (dependencies) of a
//     chain's later segments before the chain gets there: a lookup that names several modules
//     (a CPU's modalias names a dozen) loads its modules in lookup order, as kmod does, while
//     their dependencies (kvm for kvm_amd, cryptd for aesni_intel) load beside it. A dependency
//     only ever loads earlier, never later, than under kmod; the chain reports it as its own.
// A chain only waits between its own steps, never while it holds a module, and a prefetch never
// waits, so workers cannot deadlock. The result of chain i goes to slot i, whatever the timing.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/types.h"

namespace kmx {

struct LoadStep {
  std::string module;
  size_t segment = 0;    // steps of one lookup result share a segment
  bool required = true;  // a failure ends the rest of the segment
  bool early = false;    // a dependency (or pre-softdep) before the segment's module: may be
                         // loaded ahead of the chain by another worker
  u64 cost = 0;          // an estimate of the kernel's work for it (the file's size), 0: unknown
};

struct LoadChain {
  std::vector<LoadStep> steps;
};

enum class StepOutcome {
  not_reached,       // an earlier required step of its segment failed
  loaded,            // this chain ran it and it succeeded
  failed,            // this chain ran it and it failed (see ChainResult::errors)
  done_elsewhere,    // another chain of the batch loaded it
  failed_elsewhere,  // another chain of the batch tried it and it failed
};

struct ChainResult {
  std::vector<StepOutcome> steps;  // one per step
  std::vector<Error> errors;       // one per failed step, in step order
};

// run(chain, step): load chain's step (thread-safe); its failure becomes the step's error.
using StepRunner = std::function<Status(size_t chain, size_t step)>;

// jobs == 0: load_jobs_default(). With one worker, chains run in index order (each module
// exactly where kmod would load it). With more, the costliest chains start first (longest processing
// time first: a CPU's dozen crypto and kvm modules must not be the last chain to start), and a
// prefetch takes its chain's later segments costliest first.
// The default pool size: one more worker than online CPUs.
unsigned load_jobs_default();

std::vector<ChainResult> run_load_chains(const std::vector<LoadChain> &chains, unsigned jobs, const StepRunner &run);

}  // namespace kmx
