#include "daemon/control.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "test-support.h"

using namespace kmx;
using json = nlohmann::json;

namespace {

// A daemon state over an in-memory "kernel": loaded modules and a fake unload.
struct Fake {
  Fake() : state(AutocleanConfig{60, {"kept"}, {}}) {
    state.allowed_uid = getuid();
    state.clock = [this] { return now; };
    state.records = [this]() -> Result<std::vector<OnDemandRecord>> { return records; };
    state.uses = [this](const std::vector<OnDemandRecord> &) -> Result<std::vector<ModuleUse>> { return uses; };
    state.unload = [this](const std::string &m) -> Status {
      if (m == "stuck") return fail(Errc::busy, "delete_module stuck: Resource temporarily unavailable");
      unloaded.push_back(m);
      std::erase_if(uses, [&](const ModuleUse &u) { return u.name == m; });
      return {};
    };
  }
  json ask(const std::string &line) {
    PeerCred me{getpid(), getuid(), getgid()};
    return json::parse(handle_control_line(state, line, me));
  }
  i64 now = 1000;
  std::vector<OnDemandRecord> records = {OnDemandRecord{"dummy", "rtnl-link-dummy", "kernel", 0, "kernel", "b", 900}};
  std::vector<ModuleUse> uses = {{"dummy", 0, {}, true}, {"busy", 1, {}, true}, {"stuck", 0, {}, true},
                                 {"held", 0, {"user"}, true}};
  std::vector<std::string> unloaded;
  DaemonState state;
};

}  // namespace

TEST(ControlRequest, BadRequestsGetClearErrors) {
  struct Case {
    std::string line, want;
  } cases[] = {
      {"", "not valid JSON"},
      {"{", "not valid JSON"},
      {"[1]", "not a JSON object"},
      {"{}", "no string \"cmd\""},
      {R"({"cmd":7})", "no string \"cmd\""},
      {R"({"cmd":"reboot"})", "unknown command \"reboot\""},
      {R"({"cmd":"release"})", "release needs a string \"module\""},
      {R"X({"cmd":"release","module":"$(reboot)"})X", "invalid module name '$(reboot)'"},
      {R"({"cmd":"release","module":"a b"})", "invalid module name"},
      {R"({"cmd":"release","module":""})", "empty module name"},
      {R"({"cmd":"status","module":"x"})", "status takes no \"module\""},
      {R"({"cmd":"status","extra":1})", "unknown field \"extra\""},
      {std::string(5000, ' '), "longer than 4096"},
  };
  for (const Case &c : cases) {
    auto r = parse_control_request(c.line);
    ASSERT_FALSE(r) << c.line;
    EXPECT_NE(r.error().msg.find(c.want), std::string::npos) << c.line << " -> " << r.error().msg;
  }
  auto ok = parse_control_request(R"({"cmd":"cancel","module":"snd-hda-intel"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->module, "snd_hda_intel");
}

TEST(Control, ReleaseNowWaitsForTheResult) {
  Fake f;
  EXPECT_EQ(f.ask(R"({"cmd":"release","module":"dummy"})"), json::parse(R"({"ok":true,"released":"dummy"})"));
  EXPECT_EQ(f.unloaded, std::vector<std::string>{"dummy"});
  json r = f.ask(R"({"cmd":"release","module":"dummy"})");
  EXPECT_EQ(r["error"], "module dummy is not loaded");
  r = f.ask(R"({"cmd":"release","module":"busy"})");
  EXPECT_EQ(r["error"], "module busy is in use (refcnt 1)");
  r = f.ask(R"({"cmd":"release","module":"held"})");
  EXPECT_EQ(r["error"], "module held is in use (refcnt 0, holders user)");
  r = f.ask(R"({"cmd":"release","module":"stuck"})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_NE(r["error"].get<std::string>().find("stuck"), std::string::npos);
  EXPECT_EQ(f.state.counters.releases, 1);
  EXPECT_EQ(f.state.counters.release_failures, 1);
}

TEST(Control, DelayedReleaseCancelAndStatus) {
  Fake f;
  f.uses.push_back({"kept", 0, {}, true});
  EXPECT_EQ(f.ask(R"({"cmd":"release-when-idle","module":"kept"})")["ok"], true);
  EXPECT_TRUE(autoclean_round(f.state).empty());  // starts both clocks
  json s = f.ask(R"({"cmd":"status"})");
  EXPECT_EQ(s["ondemand"][0]["module"], "dummy");
  EXPECT_EQ(s["ondemand"][0]["alias"], "rtnl-link-dummy");
  EXPECT_EQ(s["pending"][0]["module"], "kept");
  EXPECT_EQ(s["idle"]["dummy"], 0);
  EXPECT_EQ(s["idle_seconds"], 60);
  f.now += 60;
  auto released = autoclean_round(f.state);
  EXPECT_EQ(released, (std::vector<std::string>{"dummy", "kept"}));
  // Cancel before the period ends keeps the module.
  f.uses.push_back({"kept", 0, {}, true});
  f.ask(R"({"cmd":"release-when-idle","module":"kept"})");
  autoclean_round(f.state);
  json c = f.ask(R"({"cmd":"cancel","module":"kept"})");
  EXPECT_EQ(c["was_pending"], true);
  f.now += 600;
  EXPECT_TRUE(autoclean_round(f.state).empty());
  s = f.ask(R"({"cmd":"status"})");
  EXPECT_EQ(s["counters"]["releases"], 2);
  EXPECT_TRUE(s["pending"].empty());
}

TEST(Control, OtherUidsAreRefused) {
  Fake f;
  f.state.allowed_uid = getuid() + 1;
  json r = f.ask(R"({"cmd":"status"})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_NE(r["error"].get<std::string>().find("permission denied"), std::string::npos);
  EXPECT_EQ(f.state.counters.refused_peers, 1);
}

TEST(Control, ServesLinesOverASocketAndChecksPeerCredentials) {
  Fake f;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  auto cred = peer_credentials(sv[0]);
  ASSERT_TRUE(cred);
  EXPECT_EQ(cred->uid, getuid());
  EXPECT_EQ(cred->pid, getpid());
  std::thread server([&] {
    EXPECT_TRUE(serve_control_connection(f.state, sv[0]));
    shutdown(sv[0], SHUT_WR);  // the client reads to EOF
  });
  std::string req = R"({"cmd":"status"})" "\nnot json\n" R"({"cmd":"release","module":"dummy"})" "\n";
  ASSERT_EQ(write(sv[1], req.data(), req.size()), static_cast<ssize_t>(req.size()));
  shutdown(sv[1], SHUT_WR);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = read(sv[1], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  server.join();
  close(sv[0]);
  close(sv[1]);
  std::vector<json> lines;
  size_t pos = 0, nl;
  while ((nl = got.find('\n', pos)) != std::string::npos) {
    lines.push_back(json::parse(got.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["ok"], true);
  EXPECT_EQ(lines[1]["error"], "request is not valid JSON");
  EXPECT_EQ(lines[2]["released"], "dummy");
}

TEST(Control, ListeningSocketIsOwnerOnly) {
  test::TempDir tmp("kmx-ctl");
  std::string dir = tmp.path;
  std::string path = dir + "/run/control";
  auto fd = listen_control_socket(path);
  ASSERT_TRUE(fd) << fd.error().msg;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  close(*fd);
  // A stale socket file is replaced.
  auto again = listen_control_socket(path);
  ASSERT_TRUE(again) << again.error().msg;
  close(*again);
}
