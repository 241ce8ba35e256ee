// The loading engine (lookup/load-engine.h) and its removal counterpart (lookup/remove-engine.h):
// plans made from a fixture module directory, run with recorded effects instead of a kernel and
// a shell, so that every rule of kmod_module_probe_insert_module() and of modprobe -r is
// checked without loading anything.
#include "lookup/load-engine.h"
#include "lookup/remove-engine.h"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test-support.h"

using namespace kmx;

namespace {

class Engine : public ::testing::Test {
protected:
  void SetUp() override {
    // a needs b and c (c loads first), b needs c; s is a's softdep; x has an install command.
    write_index("modules.dep.bin", {{"a", "kernel/a.ko: kernel/b.ko kernel/c.ko"},
                                    {"b", "kernel/b.ko: kernel/c.ko"},
                                    {"c", "kernel/c.ko:"},
                                    {"s", "kernel/s.ko:"},
                                    {"p", "kernel/p.ko:"},
                                    {"x", "kernel/x.ko:"}});
    write_index("modules.alias.bin", {{"pci:v1*", "a"}});
    write_index("modules.symbols.bin", {});
    write_index("modules.builtin.bin", {{"bi", ""}});
    write_index("modules.builtin.alias.bin", {});
  }
  void write_index(const std::string &name, const std::vector<std::pair<std::string, std::string>> &kv) {
    ASSERT_TRUE(test::write_index(dir_.path + "/" + name, kv)) << name;
  }
  void configure(const std::string &text) {
    cfg_ = ModprobeConfig{};
    Diag diag;
    parse_modprobe_config_text(cfg_, text, "t.conf", diag);
    ctx_ = std::make_unique<ProbeContext>(dir_.path, cfg_);
  }
  ProbeModule *module(const std::string &given) {
    auto v = ctx_->lookup(given);
    EXPECT_TRUE(v && !v->empty()) << given;
    return (v && !v->empty()) ? v->front() : nullptr;
  }
  ProbePlan plan(const std::string &given, PlanRequest req = {}) {
    return plan_probe(*ctx_, module(given), req, [this](ProbeModule *m) { return live_.count(m->name) > 0; });
  }
  std::string path(const std::string &name) const { return dir_.path + "/kernel/" + name + ".ko"; }

  // Effects that record what a real run would do; inserts of names in fail_ fail with ENOEXEC.
  LoadEffects effects() {
    LoadEffects fx;
    fx.in_kernel = [this](const PlanStep &s) { return live_.count(s.name) > 0; };
    fx.show = [this](const PlanStep &s, const std::string &o) { shown_.push_back(s.name + "|" + o); };
    fx.run_command = [this](const std::string &name, const std::string &cmd) -> Result<int> {
      commands_.push_back(name + "|" + cmd);
      return command_status_;
    };
    fx.insert = [this](const PlanStep &s, const std::string &o) -> Status {
      inserted_.push_back(s.name + "|" + o);
      if (fail_.count(s.name)) return fail_errno(ENOEXEC, "finit_module: Exec format error");
      live_.insert(s.name);
      return {};
    };
    return fx;
  }
  // Removal effects over the same live_ set: refcnt_ and holders_ stand in for sysfs, busy_
  // makes delete_module answer EAGAIN that many more times.
  RemoveEffects remove_effects() {
    RemoveEffects fx;
    fx.unload.remove = [this](const std::string &name, unsigned) -> Status {
      unloads_.push_back(name);
      if (busy_ > 0) {
        --busy_;
        return fail_errno(EAGAIN, "delete_module");
      }
      if (!live_.erase(name)) return fail_errno(ENOENT, "delete_module");
      return {};
    };
    fx.unload.before = [this](const std::string &name) { events_.push_back("before " + name); };
    fx.unload.after = [this](const std::string &name) { events_.push_back("after " + name); };
    fx.unload.sleep = [this](std::chrono::milliseconds d) { clock_ += d; slept_.push_back(static_cast<int>(d.count())); };
    fx.unload.now = [this] { return UnloadClock::time_point{} + clock_; };
    fx.initstate = [this](const std::string &name) { return live_.count(name) ? 0 : -ENOENT; };
    fx.refcnt = [this](const std::string &name) { return refcnt_.count(name) ? refcnt_[name] : 0; };
    fx.holders = [this](const std::string &name) { return holders_[name]; };
    fx.run_command = [this](const std::string &name, const std::string &cmd) -> Result<int> {
      commands_.push_back(name + "|" + cmd);
      return command_status_;
    };
    fx.show = [this](const std::string &line) { shown_.push_back(line); };
    return fx;
  }
  int remove(const std::string &given, RemoveRequest req = {}) {
    return execute_remove(*ctx_, module(given), req, remove_effects(),
                          [this](int prio, const std::string &m) { log_.push_back(std::to_string(prio) + " " + m); });
  }
  int run(const ProbePlan &p, unsigned flags) {
    return execute_probe(p, flags, effects(), [this](int prio, const std::string &m) { log_.push_back(std::to_string(prio) + " " + m); });
  }
  static std::vector<std::string> names(const ProbePlan &p) {
    std::vector<std::string> out;
    for (const PlanStep &s : p.steps) out.push_back(s.name);
    return out;
  }

  test::TempDir dir_{"kmx-engine"};
  ModprobeConfig cfg_;
  std::unique_ptr<ProbeContext> ctx_;
  std::set<std::string> live_, fail_;
  int command_status_ = 0;
  std::vector<std::string> shown_, commands_, inserted_, log_;
  std::map<std::string, int> refcnt_;
  std::map<std::string, std::vector<std::string>> holders_;
  int busy_ = 0;
  std::chrono::milliseconds clock_{0};
  std::vector<std::string> unloads_, events_;
  std::vector<int> slept_;
};

}  // namespace

TEST_F(Engine, PlanFollowsTheProbeListWithOptions) {
  configure("softdep a pre: p post: s\noptions a x=1\noptions c y=2\n");
  PlanRequest req;
  req.extra = "z=3";
  ProbePlan p = plan("a", req);
  ASSERT_EQ(p.outcome, ProbePlan::Outcome::load);
  // dependencies (modules.dep reversed) with their softdeps, then a's pre softdep, a, post.
  EXPECT_EQ(names(p), (std::vector<std::string>{"c", "b", "p", "a", "s"}));
  EXPECT_EQ(p.steps[0].options, "y=2 ");  // libkmod's concatenation keeps the separator
  EXPECT_EQ(p.steps[3].options, "x=1 z=3");
  EXPECT_EQ(p.steps[1].options, "");
  EXPECT_TRUE(p.steps[0].early && p.steps[2].early);
  EXPECT_TRUE(p.steps[3].target && !p.steps[3].early && !p.steps[4].early);
  EXPECT_FALSE(p.steps[2].required);  // a softdep
  EXPECT_TRUE(p.steps[0].required);
  EXPECT_EQ(*p.steps[3].path, path("a"));
}

TEST_F(Engine, LoadedAndBlacklistedModulesEndThePlanEarly) {
  configure("blacklist a\n");
  live_ = {"a"};
  EXPECT_EQ(plan("a").outcome, ProbePlan::Outcome::already_loaded);
  EXPECT_EQ(run(plan("a"), 0), 0);
  EXPECT_EQ(run(plan("a"), PROBE_FAIL_ON_LOADED), -EEXIST);
  live_.clear();
  // The alias-only flag applies to a module named by an alias, not by its name.
  PlanRequest alias_only{PROBE_APPLY_BLACKLIST_ALIAS_ONLY, std::nullopt, false};
  EXPECT_EQ(plan("a", alias_only).outcome, ProbePlan::Outcome::load);
  ProbePlan viaalias = plan("pci:v1234", alias_only);
  EXPECT_EQ(viaalias.outcome, ProbePlan::Outcome::blacklisted);
  EXPECT_EQ(run(viaalias, PROBE_APPLY_BLACKLIST_ALIAS_ONLY), static_cast<int>(PROBE_APPLY_BLACKLIST_ALIAS_ONLY));
  EXPECT_TRUE(inserted_.empty());
}

TEST_F(Engine, ExecuteSkipsLoadedStepsAndStopsOnARequiredFailure) {
  configure("softdep a post: s\n");
  live_ = {"c"};
  EXPECT_EQ(run(plan("a"), 0), 0);
  EXPECT_EQ(inserted_, (std::vector<std::string>{"b|", "a|", "s|"}));  // c was in the kernel
  // A failed softdep is not fatal; a failed dependency ends the load before the module.
  live_.clear();
  inserted_.clear();
  fail_ = {"s"};
  EXPECT_EQ(run(plan("a"), 0), 0);
  fail_ = {"b"};
  live_.clear();
  inserted_.clear();
  log_.clear();
  EXPECT_EQ(run(plan("a"), 0), -ENOEXEC);
  EXPECT_EQ(inserted_, (std::vector<std::string>{"c|", "b|"}));
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0], "6 Failed to insert module '" + path("b") + "': Exec format error");
}

TEST_F(Engine, DryRunShowsEverythingAndChangesNothing) {
  configure("install x echo hi $CMDLINE_OPTS\noptions x k=v\n");
  EXPECT_EQ(run(plan("x"), PROBE_DRY_RUN), 0);
  EXPECT_EQ(shown_, (std::vector<std::string>{"x|k=v "}));
  EXPECT_TRUE(commands_.empty());
  EXPECT_TRUE(inserted_.empty());
}

TEST_F(Engine, ForbiddenModuleEndsTheWholeLoadWithItsReason) {
  configure("forbid b\n");
  ProbePlan p = plan("a");
  ASSERT_EQ(names(p), (std::vector<std::string>{"c", "b", "a"}));
  ASSERT_TRUE(p.steps[1].forbidden);
  EXPECT_EQ(run(p, 0), -EPERM);
  EXPECT_EQ(inserted_, (std::vector<std::string>{"c|"}));
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0], "3 could not insert 'b': " + ProbeContext::forbidden_reason(module("b"), module("a")));
  // --show-depends lists it instead.
  PlanRequest listing;
  listing.listing = true;
  EXPECT_FALSE(plan("a", listing).steps[1].forbidden);
}

TEST_F(Engine, InstallCommandGetsExpandedOptionsAndItsStatusCounts) {
  configure("install x echo $CMDLINE_OPTS done\noptions x k=v\n");
  EXPECT_EQ(run(plan("x"), 0), 0);
  EXPECT_EQ(commands_, (std::vector<std::string>{"x|echo k=v  done"}));
  EXPECT_TRUE(inserted_.empty());
  command_status_ = 3 << 8;  // exit status 3
  log_.clear();
  EXPECT_EQ(run(plan("x"), 0), -EINVAL);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0], "3 Error running install command 'echo k=v  done' for module x: retcode 3");
  // PROBE_IGNORE_COMMAND inserts the file instead.
  EXPECT_EQ(run(plan("x", {PROBE_IGNORE_COMMAND, std::nullopt, false}), PROBE_IGNORE_COMMAND), 0);
  EXPECT_EQ(inserted_, (std::vector<std::string>{"x|k=v "}));
}

TEST_F(Engine, StoredValuesJoinInsertsAndReachAShellOnlyAsPlainText) {
  configure("install x echo $CMDLINE_OPTS\n");
  LoadEffects fx = effects();
  fx.stored = [](const PlanStep &, const std::string &) {
    return std::vector<std::string>{"n=2", "name=\"a b\"", "evil=$(id)", "q='", "path=/dev/x,y:1"};
  };
  ProbePlan p = plan("x");
  ASSERT_TRUE(execute_step(p.steps[0], false, fx).ok());
  EXPECT_EQ(commands_, (std::vector<std::string>{"x|echo n=2 path=/dev/x,y:1"}));
  ProbePlan c = plan("c");
  ASSERT_TRUE(execute_step(c.steps[0], false, fx).ok());
  // an insert gets every stored word, ahead of the load's own options
  EXPECT_EQ(inserted_, (std::vector<std::string>{"c|n=2 name=\"a b\" evil=$(id) q=' path=/dev/x,y:1"}));
  EXPECT_EQ(command_options({"k=1"}, "own"), "k=1 own");
  EXPECT_EQ(insert_options({}, "own"), "own");
}

TEST_F(Engine, MissingFileAndTimedOutCommandSayWhat) {
  configure("install x sleep 9\n");
  PlanStep ghost;
  ghost.name = "ghost";
  StepResult r = execute_step(ghost, false, effects());
  EXPECT_EQ(r.err, -ENOENT);
  EXPECT_EQ(r.message, "could not find module by name='ghost'");
  LoadEffects fx = effects();
  fx.run_command = [](const std::string &, const std::string &) -> Result<int> { return fail(Errc::busy, "still ran after 1 s: stopped"); };
  r = execute_step(plan("x").steps[0], false, fx);
  EXPECT_EQ(r.err, -EBUSY);
  EXPECT_EQ(r.message, "install command 'sleep 9' for module x still ran after 1 s: stopped");
  // a builtin module counts as loaded: nothing runs for it
  configure("");
  PlanStep bi;
  bi.name = "bi";
  bi.builtin = true;
  bi.target = true;
  ProbePlan p;
  p.steps.push_back(bi);
  EXPECT_EQ(run(p, 0), 0);
  EXPECT_EQ(run(p, PROBE_FAIL_ON_LOADED), -EEXIST);
  EXPECT_TRUE(inserted_.empty());
}

TEST_F(Engine, RemoveTakesPostSoftdepsTheModuleItsUnusedDependenciesThenPreSoftdeps) {
  configure("softdep a pre: p post: s\n");
  live_ = {"a", "b", "c", "p", "s"};
  refcnt_ = {{"c", 1}};  // c is still used (by b) when a has gone; b is not
  EXPECT_EQ(remove("a"), 0);
  EXPECT_EQ(unloads_, (std::vector<std::string>{"s", "a", "b", "p"}));
  EXPECT_EQ(live_, (std::set<std::string>{"c"}));
  EXPECT_EQ(shown_, (std::vector<std::string>{"rmmod s\n", "rmmod a\n", "rmmod b\n", "rmmod p\n"}));
  // persistence runs around each unload, and `after` only for a module that left
  EXPECT_EQ(events_[0], "before s");
  EXPECT_EQ(events_[1], "after s");
  EXPECT_TRUE(log_.empty());
}

TEST_F(Engine, RemoveRefusesABusyBuiltinOrAbsentModuleWithModprobesWords) {
  configure("");
  live_ = {"a"};
  refcnt_ = {{"a", 2}};
  EXPECT_EQ(remove("a"), -EBUSY);
  EXPECT_TRUE(unloads_.empty());
  EXPECT_EQ(log_, (std::vector<std::string>{"2 Module a is in use.\n"}));
  log_.clear();
  EXPECT_EQ(remove("bi", {.log_priority = LOG_PRIO_WARNING}), -ENOENT);
  EXPECT_EQ(log_, (std::vector<std::string>{"4 Module bi is builtin.\n"}));
  log_.clear();
  EXPECT_EQ(remove("c"), 0);  // not loaded: nothing to do
  EXPECT_TRUE(log_.empty());
  EXPECT_EQ(remove("c", {.first_time = true}), -ENOENT);
  EXPECT_EQ(log_, (std::vector<std::string>{"2 Module c is not in kernel.\n"}));
  // --ignore-loaded skips the checks and lets the kernel answer
  log_.clear();
  EXPECT_EQ(remove("c", {.ignore_loaded = true}), -ENOENT);
  EXPECT_EQ(log_, (std::vector<std::string>{"3 could not remove 'c': No such file or directory\n"}));
  EXPECT_TRUE(events_.size() == 1 && events_[0] == "before c");  // no `after`: c never left
}

TEST_F(Engine, RemoveCommandStandsInForTheUnloadAndItsStatusCounts) {
  configure("remove x echo gone $CMDLINE_OPTS\n");
  live_ = {"x"};
  EXPECT_EQ(remove("x"), 0);
  EXPECT_EQ(commands_, (std::vector<std::string>{"x|echo gone "}));
  EXPECT_EQ(shown_, (std::vector<std::string>{"remove echo gone \n"}));
  EXPECT_TRUE(unloads_.empty());
  command_status_ = 5 << 8;
  EXPECT_EQ(remove("x"), -5);
  EXPECT_EQ(log_, (std::vector<std::string>{"2 Error running remove command for x\n"}));
  // -i: the file is unloaded instead; a dry run shows it and does nothing
  EXPECT_EQ(remove("x", {.dry_run = true, .ignore_commands = true}), 0);
  EXPECT_TRUE(unloads_.empty());
  EXPECT_EQ(shown_.back(), "rmmod x\n");
  EXPECT_EQ(remove("x", {.ignore_commands = true}), 0);
  EXPECT_EQ(unloads_, (std::vector<std::string>{"x"}));
}

TEST_F(Engine, RemoveHoldersGoFirstAndTheirFailureStopsTheRemoval) {
  configure("");
  live_ = {"p", "c"};
  holders_ = {{"c", {"p"}}};
  EXPECT_EQ(remove("c", {.remove_holders = true}), 0);
  EXPECT_EQ(unloads_, (std::vector<std::string>{"p", "c"}));
  live_ = {"p", "c"};
  unloads_.clear();
  refcnt_ = {{"p", 1}};
  EXPECT_EQ(remove("c", {.remove_holders = true}), -EBUSY);
  EXPECT_TRUE(unloads_.empty());
}

TEST_F(Engine, UnloadOfABusyModuleIsRetriedUntilTheWaitEnds) {
  configure("");
  live_ = {"c"};
  busy_ = 3;
  EXPECT_EQ(remove("c", {.wait = std::chrono::milliseconds(100)}), 0);
  EXPECT_EQ(unloads_.size(), 4u);
  EXPECT_EQ(slept_, (std::vector<int>{1, 2, 4}));
  // the baseline is saved once, not once per try
  EXPECT_EQ(events_, (std::vector<std::string>{"before c", "after c"}));
  // past the deadline the last answer stands, reported once
  live_ = {"c"};
  busy_ = 1000;
  unloads_.clear();
  log_.clear();
  EXPECT_EQ(remove("c", {.wait = std::chrono::milliseconds(50)}), -EAGAIN);
  EXPECT_GT(unloads_.size(), 3u);
  EXPECT_EQ(log_, (std::vector<std::string>{"3 could not remove 'c': Resource temporarily unavailable\n"}));
  // without --wait one try
  unloads_.clear();
  log_.clear();
  EXPECT_EQ(remove("c"), -EAGAIN);
  EXPECT_EQ(unloads_.size(), 1u);
}
