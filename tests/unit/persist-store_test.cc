#include "persist/persist-store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

class Store : public ::testing::Test {
protected:
  void SetUp() override {
    path_ = (dir_ / "sub" / "persist.db").string();
    fs::create_directories(dir_ / "sub");
    fs::permissions(dir_ / "sub", fs::perms::owner_all);
  }
  test::TempDir tmp_{"kmx-persist"};
  fs::path dir_{tmp_.path};
  std::string path_;
};

}  // namespace

TEST_F(Store, CreatesDirectoryAndSchemaInWalMode) {
  fs::remove_all(dir_ / "sub");
  auto s = PersistStore::open(path_, OpenMode::read_write, PersistStore::StoreDir::create);
  ASSERT_TRUE(s) << s.error().msg;
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_EQ(fs::status(dir_ / "sub").permissions() & fs::perms::all, fs::perms::owner_all);
  ASSERT_TRUE(s->set("dummy", {{"numdummies", "3"}}));
  // WAL leaves its -wal file next to the database while a connection is open.
  EXPECT_TRUE(fs::exists(path_ + "-wal"));
  auto problems = s->check();
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty());
}

TEST_F(Store, ReadOnlyOnMissingFileIsNotFound) {
  auto s = PersistStore::open(path_, OpenMode::read_only);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::not_found);
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(Store, GetSetListRemove) {
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->set("b_mod", {{"x", "1"}, {"y", "two words"}}));
  ASSERT_TRUE(s->set("a_mod", {{"note", "not a parameter"}}));
  ASSERT_TRUE(s->set("b_mod", {{"x", "9"}}));
  auto v = s->get("b_mod", "x");
  ASSERT_TRUE(v && *v);
  EXPECT_EQ(**v, "9");
  auto none = s->get("b_mod", "zz");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto all = s->list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].module, "a_mod");
  EXPECT_EQ((*all)[1].key, "x");
  EXPECT_EQ((*all)[2].value, "two words");
  auto n = s->remove("b_mod", "x");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  n = s->remove("b_mod", "x");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0);
  n = s->remove("a_mod", "");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(s->list()->size(), 1u);
}

TEST_F(Store, ValuesSurviveReopen) {
  {
    auto s = PersistStore::open(path_, OpenMode::read_write);
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->set("m", {{"k", "v"}}));
  }
  auto r = PersistStore::open(path_, OpenMode::read_only);
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(**r->get("m", "k"), "v");
}

TEST_F(Store, BadNamesAndKeysAreRefused) {
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_TRUE(s);
  struct Case {
    std::string module, key, want;
  } cases[] = {
      {"", "k", "empty module name"},
      {"a;rm -rf /", "k", "invalid module name 'a;rm -rf /'"},
      {"a.b", "k", "invalid module name"},
      {std::string(56, 'a'), "k", "longer than 55"},
      {"m", "", "empty key"},
      {"m", "a=b", "invalid key 'a=b'"},
      {"m", "a b", "invalid key"},
      {"m", "a\nb", "invalid key"},
  };
  for (const Case &c : cases) {
    auto r = s->set(c.module, {{c.key, "v"}});
    ASSERT_FALSE(r) << c.module << "/" << c.key;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().msg.find(c.want), std::string::npos) << r.error().msg;
  }
  EXPECT_TRUE(s->list()->empty());
}

TEST_F(Store, SnapshotReplacesParamRowsAndKeepsUserRows) {
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->set("m", {{"note", "mine"}, {"debug", "1"}}));
  ASSERT_TRUE(s->save_params("m", {{"debug", "2"}, {"old", "x"}}));
  ASSERT_TRUE(s->save_params("m", {{"debug", "3"}, {"level", "5"}}));
  auto all = s->list("m");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);  // debug(param), level(param), note(user); "old" is gone
  EXPECT_EQ((*all)[0].key, "debug");
  EXPECT_EQ((*all)[0].value, "3");
  EXPECT_EQ((*all)[0].kind, EntryKind::param);
  EXPECT_EQ((*all)[1].key, "level");
  EXPECT_EQ((*all)[2].key, "note");
  EXPECT_EQ((*all)[2].kind, EntryKind::user);
  ASSERT_TRUE(s->remove("m", "level"));
  auto problems = s->check();
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0];
}

TEST_F(Store, CheckFindsBrokenInvariant) {
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->save_params("m", {{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(exec_sql(s->db(), "DELETE FROM entry WHERE key='a'"));
  auto problems = s->check();
  ASSERT_TRUE(problems);
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ((*problems)[0], "module m: snapshot says 2 parameters, store has 1");
}

TEST_F(Store, NotADatabaseIsAClearError) {
  std::ofstream(path_) << "this is not sqlite, just text that is long enough to have a header.....................................";
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::invalid_format);
  EXPECT_NE(s.error().msg.find(path_), std::string::npos) << s.error().msg;
}

TEST_F(Store, NewerSchemaIsRefused) {
  {
    auto s = PersistStore::open(path_, OpenMode::read_write);
    ASSERT_TRUE(s);
    ASSERT_TRUE(exec_sql(s->db(), "UPDATE meta SET value='99' WHERE key='schema_version'"));
  }
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::unsupported);
  EXPECT_NE(s.error().msg.find("schema version 99"), std::string::npos);
}

// A writer that snapshots parameters in a loop is killed with SIGKILL at random moments;
// after each kill the store must pass check() and hold one whole snapshot: every parameter of
// module "m" carries the same generation number.
TEST_F(Store, KillNineAtRandomPointsLeavesItConsistent) {
  constexpr int kKills = 120;
  constexpr int kParams = 40;
  {
    auto s = PersistStore::open(path_, OpenMode::read_write);
    ASSERT_TRUE(s);
  }
  std::mt19937 rng(12345);
  int killed_live = 0;
  for (int round = 0; round < kKills; round++) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = PersistStore::open(path_, OpenMode::read_write);
      if (!s) _exit(3);
      for (long gen = 1;; gen++) {
        std::map<std::string, std::string> p;
        for (int i = 0; i < kParams; i++) {
          std::string key = "p";  // appended, not "p" + ...: GCC 12 -Wrestrict false positive
          key += std::to_string(i);
          p[key] = std::to_string(gen);
        }
        if (!s->save_params("m", p)) _exit(4);
        if (!s->set("u", {{"gen", std::to_string(gen)}})) _exit(5);
      }
    }
    usleep(std::uniform_int_distribution<int>(200, 8000)(rng));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) killed_live++;
    else FAIL() << "writer exited by itself with " << WEXITSTATUS(status);

    auto s = PersistStore::open(path_, OpenMode::read_write);
    ASSERT_TRUE(s) << s.error().msg;
    auto problems = s->check();
    ASSERT_TRUE(problems) << problems.error().msg;
    ASSERT_TRUE(problems->empty()) << "round " << round << ": " << (*problems)[0];
    auto rows = s->list("m");
    ASSERT_TRUE(rows);
    if (rows->empty()) continue;
    ASSERT_EQ(rows->size(), static_cast<size_t>(kParams)) << "round " << round;
    for (const PersistEntry &e : *rows) ASSERT_EQ(e.value, (*rows)[0].value) << "round " << round << " key " << e.key;
  }
  EXPECT_EQ(killed_live, kKills);
}

// The path rules hold before SQLite sees the path (see PersistStore::open).
TEST_F(Store, MissingDirectoryIsAnErrorUnlessCreationIsAsked) {
  fs::remove_all(dir_ / "sub");
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::not_found);
  EXPECT_NE(s.error().msg.find("directory '" + (dir_ / "sub").string() + "' does not exist"), std::string::npos) << s.error().msg;
  EXPECT_FALSE(fs::exists(dir_ / "sub"));
  EXPECT_EQ(store_dir_policy("/var/lib/kmx/persist.db"), PersistStore::StoreDir::create);
  EXPECT_EQ(store_dir_policy(path_), PersistStore::StoreDir::must_exist);
}

TEST_F(Store, DirectoryGivenAsTheStoreIsNamed) {
  auto s = PersistStore::open((dir_ / "sub").string(), OpenMode::read_write);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  EXPECT_NE(s.error().msg.find("is a directory"), std::string::npos) << s.error().msg;
}

TEST_F(Store, DirectoryWritableByOthersIsRefused) {
  for (fs::perms extra : {fs::perms::others_write | fs::perms::sticky_bit, fs::perms::group_write}) {
    fs::permissions(dir_ / "sub", fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec | extra);
    auto s = PersistStore::open(path_, OpenMode::read_write);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::permission);
    EXPECT_NE(s.error().msg.find("is writable by"), std::string::npos) << s.error().msg;
    EXPECT_FALSE(fs::exists(path_));
  }
}

TEST_F(Store, SymbolicLinkIsRefused) {
  fs::create_symlink(dir_ / "elsewhere.db", path_);
  for (OpenMode mode : {OpenMode::read_write, OpenMode::read_only}) {
    auto s = PersistStore::open(path_, mode);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::permission);
    EXPECT_NE(s.error().msg.find("symbolic link"), std::string::npos) << s.error().msg;
  }
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere.db"));
}

TEST_F(Store, ErrorsNeverShowSql) {
  std::ofstream(path_) << std::string(4096, 'x');
  auto s = PersistStore::open(path_, OpenMode::read_write);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().msg.find("CREATE"), std::string::npos) << s.error().msg;
  EXPECT_EQ(s.error().msg.find('\n'), std::string::npos) << s.error().msg;
  EXPECT_NE(s.error().msg.find("damaged"), std::string::npos) << s.error().msg;
}
