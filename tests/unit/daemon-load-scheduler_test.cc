// run_load_chains with a fake loader that sleeps: dependency order inside a chain, each module
// run once across chains, waiting for a module another worker is loading, failure propagation
// (reported once, required steps end their segment), and real concurrency.
#include "daemon/load-scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace kmx {
namespace {

using namespace std::chrono_literals;

LoadChain chain(std::initializer_list<const char *> mods, size_t segment = 1) {
  LoadChain c;
  for (const char *m : mods) c.steps.push_back({m, segment, true});
  return c;
}

struct FakeKernel {
  std::set<std::string> failing;
  std::map<std::string, std::chrono::milliseconds> delay;
  std::mutex mu;
  std::map<std::string, int> runs;
  std::vector<std::string> started, finished;  // in start / completion order
  std::atomic<int> running{0}, max_running{0};

  StepRunner runner(const std::vector<LoadChain> &chains) {
    return [this, &chains](size_t c, size_t s) -> Status {
      const std::string &m = chains[c].steps[s].module;
      {
        std::lock_guard lock(mu);
        started.push_back(m);
      }
      int now = ++running;
      for (int prev = max_running; now > prev && !max_running.compare_exchange_weak(prev, now);) {}
      auto d = delay.count(m) ? delay[m] : 20ms;
      std::this_thread::sleep_for(d);
      --running;
      std::lock_guard lock(mu);
      runs[m]++;
      finished.push_back(m);
      if (failing.count(m)) return fail(Errc::io, m + " refused");
      return {};
    };
  }
  size_t pos(const std::string &m) {
    return static_cast<size_t>(std::find(finished.begin(), finished.end(), m) - finished.begin());
  }
};

TEST(LoadScheduler, DependenciesFinishBeforeTheirUsersAndEachModuleRunsOnce) {
  // Three aliases sharing a slow dependency (core) and a slower one (crc).
  std::vector<LoadChain> chains = {chain({"crc", "core", "a"}), chain({"core", "b"}), chain({"crc", "core", "c"}),
                                   chain({"d"}), chain({"core", "b"})};
  FakeKernel k;
  k.delay["core"] = 80ms;
  k.delay["crc"] = 60ms;
  auto res = run_load_chains(chains, 4, k.runner(chains));
  ASSERT_EQ(res.size(), chains.size());
  for (const char *m : {"crc", "core", "a", "b", "c", "d"}) EXPECT_EQ(k.runs[m], 1) << m;
  EXPECT_EQ(k.finished.size(), 6u);
  EXPECT_LT(k.pos("core"), k.pos("a"));
  EXPECT_LT(k.pos("crc"), k.pos("a"));
  EXPECT_LT(k.pos("core"), k.pos("b"));
  EXPECT_LT(k.pos("core"), k.pos("c"));
  // Exactly one chain reports each module as loaded; the others saw it done elsewhere.
  std::map<std::string, int> loaded;
  for (size_t c = 0; c < chains.size(); c++)
    for (size_t s = 0; s < chains[c].steps.size(); s++) {
      if (res[c].steps[s] == StepOutcome::loaded) loaded[chains[c].steps[s].module]++;
      else EXPECT_EQ(res[c].steps[s], StepOutcome::done_elsewhere);
    }
  for (const char *m : {"crc", "core", "a", "b", "c", "d"}) EXPECT_EQ(loaded[m], 1) << m;
  for (const ChainResult &r : res) EXPECT_TRUE(r.errors.empty());
  EXPECT_GE(k.max_running.load(), 2);
}

TEST(LoadScheduler, IndependentModulesLoadConcurrently) {
  // Eight independent modules, four workers. Each load waits until the other three loads of
  // its round of four have started, so the batch completes only if four loads run side by
  // side, twice. A load that waits in vain gives up (after 10 s, so that a scheduler running
  // fewer at a time fails the test instead of hanging it) and is counted.
  std::vector<LoadChain> chains;
  for (int i = 0; i < 8; i++) chains.push_back(chain({("m" + std::to_string(i)).c_str()}));
  std::mutex mu;
  std::condition_variable cv;
  int started = 0, running = 0, max_running = 0, gave_up = 0;
  std::map<std::string, int> runs;
  run_load_chains(chains, 4, [&](size_t c, size_t s) -> Status {
    std::unique_lock lock(mu);
    const int round_end = (started / 4 + 1) * 4;
    started++;
    max_running = std::max(max_running, ++running);
    cv.notify_all();
    if (!cv.wait_for(lock, 10s, [&] { return started >= round_end; })) gave_up++;
    running--;
    runs[chains[c].steps[s].module]++;
    return {};
  });
  EXPECT_EQ(gave_up, 0);
  EXPECT_EQ(max_running, 4);
  for (int i = 0; i < 8; i++) EXPECT_EQ(runs["m" + std::to_string(i)], 1);
}

TEST(LoadScheduler, OneWorkerRunsInChainOrder) {
  std::vector<LoadChain> chains = {chain({"x", "a"}), chain({"x", "b"}), chain({"c"})};
  FakeKernel k;
  run_load_chains(chains, 1, k.runner(chains));
  EXPECT_EQ(k.finished, (std::vector<std::string>{"x", "a", "b", "c"}));
  EXPECT_EQ(k.max_running.load(), 1);
}

TEST(LoadScheduler, AFailedDependencyIsTriedOnceAndStopsEveryUser) {
  std::vector<LoadChain> chains = {chain({"bad", "a"}), chain({"bad", "b"}), chain({"ok", "c"}), chain({"bad", "d"})};
  FakeKernel k;
  k.failing = {"bad"};
  k.delay["bad"] = 80ms;
  auto res = run_load_chains(chains, 3, k.runner(chains));
  EXPECT_EQ(k.runs["bad"], 1);
  EXPECT_EQ(k.runs.count("a") + k.runs.count("b") + k.runs.count("d"), 0u);
  EXPECT_EQ(k.runs["c"], 1);
  int reported = 0;
  for (size_t c : {0u, 1u, 3u}) {
    EXPECT_EQ(res[c].steps[1], StepOutcome::not_reached);
    if (res[c].steps[0] == StepOutcome::failed) {
      reported++;
      ASSERT_EQ(res[c].errors.size(), 1u);
      EXPECT_EQ(res[c].errors[0].msg, "bad refused");
    } else {
      EXPECT_EQ(res[c].steps[0], StepOutcome::failed_elsewhere);
      EXPECT_TRUE(res[c].errors.empty());
    }
  }
  EXPECT_EQ(reported, 1);
  EXPECT_EQ(res[2].steps[1], StepOutcome::loaded);
}

TEST(LoadScheduler, AFailureEndsOnlyItsSegmentAndOptionalStepsDoNotStopIt) {
  LoadChain c;
  c.steps = {{"dep", 1, true}, {"m1", 1, true}, {"soft", 2, false}, {"m2", 2, true}, {"m3", 3, true}};
  std::vector<LoadChain> chains = {c};
  FakeKernel k;
  k.failing = {"dep", "soft"};
  auto res = run_load_chains(chains, 2, k.runner(chains));
  EXPECT_EQ(res[0].steps[0], StepOutcome::failed);
  EXPECT_EQ(res[0].steps[1], StepOutcome::not_reached);
  EXPECT_EQ(res[0].steps[2], StepOutcome::failed);  // not required: the segment goes on
  EXPECT_EQ(res[0].steps[3], StepOutcome::loaded);
  EXPECT_EQ(res[0].steps[4], StepOutcome::loaded);
  EXPECT_EQ(res[0].errors.size(), 2u);
}

TEST(LoadScheduler, ManyChainsOverFewModulesNeverDeadlockAndRunEachOnce) {
  // Chains list shared modules in different orders (independent deps can come either way).
  std::vector<LoadChain> chains;
  const char *mods[] = {"p", "q", "r", "s"};
  for (int i = 0; i < 200; i++) {
    LoadChain c;
    for (int j = 0; j < 4; j++) c.steps.push_back({mods[(i + j * (i % 3 + 1)) % 4], 1, true});
    chains.push_back(c);
  }
  FakeKernel k;
  for (const char *m : mods) k.delay[m] = 5ms;
  auto res = run_load_chains(chains, 8, k.runner(chains));
  for (const char *m : mods) EXPECT_EQ(k.runs[m], 1) << m;
  EXPECT_EQ(res.size(), 200u);
}

// One alias naming three modules (segments), each with its own dependency: with two workers
// the later segments' dependencies load beside the chain, the modules themselves still in
// lookup order, and the chain reports every step as its own.
TEST(LoadScheduler, LaterSegmentsDependenciesLoadAheadModulesStayInOrder) {
  LoadChain c;
  c.steps = {{"m1", 1, true, false},
             {"dep2", 2, true, true}, {"m2", 2, true, false},
             {"dep3a", 3, true, true}, {"dep3b", 3, true, true}, {"m3", 3, true, false}};
  std::vector<LoadChain> chains = {c};
  FakeKernel k;
  k.delay["m1"] = 400ms;
  k.delay["dep2"] = 60ms;
  k.delay["dep3a"] = 40ms;
  k.delay["dep3b"] = 40ms;
  auto res = run_load_chains(chains, 2, k.runner(chains));
  for (const char *m : {"m1", "dep2", "m2", "dep3a", "dep3b", "m3"}) EXPECT_EQ(k.runs[m], 1) << m;
  // The dependencies finished while m1 (the chain's first step) was still loading.
  EXPECT_LT(k.pos("dep2"), k.pos("m1"));
  EXPECT_LT(k.pos("dep3a"), k.pos("m1"));
  EXPECT_LT(k.pos("dep3a"), k.pos("dep3b"));
  EXPECT_LT(k.pos("m1"), k.pos("m2"));
  EXPECT_LT(k.pos("m2"), k.pos("m3"));
  EXPECT_EQ(k.max_running.load(), 2);
  for (StepOutcome o : res[0].steps) EXPECT_EQ(o, StepOutcome::loaded);
  EXPECT_TRUE(res[0].errors.empty());
}

TEST(LoadScheduler, AFailedPrefetchIsReportedOnceByItsChainAndEndsTheSegment) {
  LoadChain c;
  c.steps = {{"m1", 1, true, false}, {"bad", 2, true, true}, {"m2", 2, true, false}, {"m3", 3, true, false}};
  LoadChain other;
  other.steps = {{"bad", 1, true, true}, {"x", 1, true, false}};
  std::vector<LoadChain> chains = {c, other};
  FakeKernel k;
  k.failing = {"bad"};
  k.delay["m1"] = 150ms;
  auto res = run_load_chains(chains, 2, k.runner(chains));
  EXPECT_EQ(k.runs["bad"], 1);
  EXPECT_EQ(k.runs.count("m2") + k.runs.count("x"), 0u);
  EXPECT_EQ(k.runs["m3"], 1);
  EXPECT_EQ(res[0].steps[1], StepOutcome::failed);
  EXPECT_EQ(res[0].steps[2], StepOutcome::not_reached);
  EXPECT_EQ(res[0].steps[3], StepOutcome::loaded);
  ASSERT_EQ(res[0].errors.size(), 1u);
  EXPECT_EQ(res[0].errors[0].msg, "bad refused");
  EXPECT_EQ(res[1].steps[0], StepOutcome::failed_elsewhere);
  EXPECT_TRUE(res[1].errors.empty());
}

TEST(LoadScheduler, OneWorkerLoadsAMultiModuleLookupInKmodsOrder) {
  LoadChain c;
  c.steps = {{"m1", 1, true, false}, {"dep2", 2, true, true}, {"m2", 2, true, false}};
  std::vector<LoadChain> chains = {c};
  FakeKernel k;
  run_load_chains(chains, 1, k.runner(chains));
  EXPECT_EQ(k.finished, (std::vector<std::string>{"m1", "dep2", "m2"}));
}

// Longest processing time first: with two workers the costliest chain starts at once, even
// when it comes last; its prefetch takes the costliest later segment first.
TEST(LoadScheduler, CostliestChainAndSegmentStartFirst) {
  auto one = [](const char *m, u64 cost) {
    LoadChain c;
    c.steps.push_back({m, 1, true, false, cost});
    return c;
  };
  LoadChain big;
  big.steps = {{"m1", 1, true, false, 1000},
               {"small_dep", 2, true, true, 10}, {"m2", 2, true, false, 10},
               {"big_dep", 3, true, true, 5000}, {"m3", 3, true, false, 10}};
  std::vector<LoadChain> chains = {one("a", 10), one("b", 10), one("c", 10), big};
  FakeKernel k;
  k.delay["m1"] = 300ms;
  auto res = run_load_chains(chains, 2, k.runner(chains));
  ASSERT_GE(k.started.size(), 2u);
  EXPECT_EQ(k.started[0] == "m1" || k.started[1] == "m1", true);
  EXPECT_LT(k.pos("big_dep"), k.pos("small_dep"));
  EXPECT_LT(k.pos("m1"), k.pos("m2"));
  EXPECT_LT(k.pos("m2"), k.pos("m3"));
  for (const char *m : {"a", "b", "c", "m1", "m2", "m3", "small_dep", "big_dep"}) EXPECT_EQ(k.runs[m], 1) << m;
  for (StepOutcome o : res[3].steps) EXPECT_EQ(o, StepOutcome::loaded);
}

TEST(LoadScheduler, EmptyBatch) {
  FakeKernel k;
  std::vector<LoadChain> none;
  EXPECT_TRUE(run_load_chains(none, 0, k.runner(none)).empty());
}

}  // namespace
}  // namespace kmx
