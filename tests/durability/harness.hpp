// The durability tests' harness: child processes spoken to through pipes, temporary
// directories, raw SQLite access to a host file, and small RAII wrappers over the C ABI.  Only
// plumbing lives here; every behaviour is asserted in the test files.
#pragma once

#include <golem_promise.h>
#include <sqlite3.h>

#include <catch2/catch_test_macros.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"

extern char** environ;

namespace gpd {

// One process of gp_durability_child, its stdin and stdout connected to us by pipes.  The
// destructor kills and reaps it if it is still running, so a failing test leaves no orphans.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    ::signal(SIGPIPE, SIG_IGN);  // a child that died must fail a test, not kill it
    int in[2], out[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    std::vector<std::string> argv_s;
    argv_s.push_back(GP_DURABILITY_CHILD);
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, GP_DURABILITY_CHILD, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    for (auto& s : args) what_ += s + " ";
    INFO("posix_spawn " << GP_DURABILITY_CHILD << ": " << std::strerror(rc));
    REQUIRE(rc == 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
  }

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return from_; }

  // The next line, or nullopt at end of file.  FAILs if nothing arrives within timeout_ms.
  std::optional<std::string> next_line(int timeout_ms = 60000) {
    const auto deadline = now_ns() + std::int64_t{timeout_ms} * 1000000;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      if (eof_) {
        if (!buf_.empty()) {
          std::string line;
          line.swap(buf_);
          return line;
        }
        return std::nullopt;
      }
      const auto left_ms = (deadline - now_ns()) / 1000000;
      if (left_ms <= 0) FAIL("child '" << what_ << "' said nothing for " << timeout_ms << " ms");
      pollfd p{from_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left_ms));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
      } else {
        buf_.append(chunk, static_cast<std::size_t>(n));
      }
    }
  }

  // The next line, which must exist; a "fatal ..." line from the child fails the test.
  std::string line(int timeout_ms = 60000) {
    auto l = next_line(timeout_ms);
    if (!l) FAIL("child '" << what_ << "' exited before saying anything more (status " << describe(wait()) << ")");
    if (l->rfind("fatal ", 0) == 0) FAIL("child '" << what_ << "': " << *l);
    return *l;
  }

  // The next line, which must start with `word`; returns its words.
  std::vector<std::string> expect(const std::string& word, int timeout_ms = 60000) {
    const auto l = line(timeout_ms);
    auto w = words(l);
    INFO("child '" << what_ << "' said: " << l);
    REQUIRE(!w.empty());
    REQUIRE(w[0] == word);
    return w;
  }

  // Every line left until the child closes its stdout.
  std::vector<std::string> rest(int timeout_ms = 60000) {
    std::vector<std::string> out;
    while (auto l = next_line(timeout_ms)) out.push_back(*l);
    return out;
  }

  void send(const std::string& line) {
    const std::string s = line + "\n";
    REQUIRE(::write(to_, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }

  void kill() { ::kill(pid_, SIGKILL); }

  // Reaps the child; returns its wait status.
  int wait() {
    if (!reaped_) {
      while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    return status_;
  }

  // Reaps the child and requires a clean exit 0.
  void require_clean_exit() {
    const int st = wait();
    INFO("child '" << what_ << "' ended with " << describe(st));
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
  }

  static std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  }

  static std::string describe(int st) {
    if (WIFEXITED(st)) return "exit " + std::to_string(WEXITSTATUS(st));
    if (WIFSIGNALED(st)) return std::string("signal ") + strsignal(WTERMSIG(st));
    return "status " + std::to_string(st);
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool reaped_ = false;
  int status_ = 0;
  std::string what_;
};

// The rest of a child's line after its first n words (an error message, say).
inline std::string tail_words(const std::string& line, std::size_t n) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n && pos != std::string::npos; ++i) {
    pos = line.find(' ', pos);
    if (pos != std::string::npos) ++pos;
  }
  return pos == std::string::npos ? std::string() : line.substr(pos);
}

inline std::int64_t to_i64(const std::string& s) { return std::stoll(s); }

// Where temporary directories go: $GP_DURABILITY_TMPDIR, else a directory of the build tree.
inline std::string temp_base() {
  const char* env = std::getenv("GP_DURABILITY_TMPDIR");
  return env && *env ? env : GP_DURABILITY_TMP;
}

// A fresh directory made with mkdtemp; removed with its contents.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& base = temp_base()) {
    std::filesystem::create_directories(base);
    std::string tmpl = base + "/gp-durability-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    // Undo any chmod a test made, so that removal works for non-root users too.
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    for (auto& e : std::filesystem::recursive_directory_iterator(path, ec)) {
      std::filesystem::permissions(e.path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    }
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

// A raw SQLite connection to a host file, standing in for another program (or for a check
// the library's own API cannot make).
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    INFO("sqlite3_open_v2(" << path << "): " << (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    REQUIRE(rc == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { close(); }
  void close() {
    if (db) sqlite3_close(db);
    db = nullptr;
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    INFO(sql << ": " << sqlite3_errmsg(db));
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const std::int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  std::vector<std::string> texts(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    INFO(sql << ": " << sqlite3_errmsg(db));
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::string> out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
    }
    sqlite3_finalize(st);
    REQUIRE(rc == SQLITE_DONE);
    return out;
  }
};

// A gp_host handle that closes itself.
struct Host {
  gp_host* h = nullptr;
  explicit Host(const std::string& path, std::int32_t busy_timeout_ms = 0, std::int32_t synchronous = 0,
                std::int32_t fallback_poll_us = 0) {
    gp_host_options_t o{GP_HOST_OPTIONS_VERSION, synchronous, busy_timeout_ms, fallback_poll_us};
    const int rc = gp_host_open(&h, path.c_str(), &o);
    INFO("gp_host_open(" << path << "): " << gp_last_error_message());
    REQUIRE(rc == GP_OK);
  }
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host() { gp_host_close(&h); }
  operator gp_host*() const { return h; }
  void close() { gp_host_close(&h); }
};

struct Worker {
  gp_worker* w = nullptr;
  gp_worker_id_t id{};
  Worker(gp_host* host, const char* name, std::uint32_t flags = GP_WORKER_OPEN_LIVE) {
    REQUIRE(make_worker_id(&id, name));
    const int rc = gp_worker_open_v2(&w, host, &id, flags);
    INFO("gp_worker_open_v2(" << name << "): " << gp_last_error_message());
    REQUIRE(rc == GP_OK);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { gp_worker_close(&w); }
  operator gp_worker*() const { return w; }
  gp_promise_id_t create() {
    gp_promise_id_t p{};
    const int rc = gp_worker_create_promise(&p, w);
    INFO(gp_last_error_message());
    REQUIRE(rc == GP_OK);
    return p;
  }
};

struct Payload {
  gp_bytes_t b{nullptr, 0};
  Payload() = default;
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  ~Payload() { gp_bytes_free(&b); }
  gp_bytes_t* out() {
    gp_bytes_free(&b);
    return &b;
  }
  std::string str() const { return b.len ? std::string(reinterpret_cast<const char*>(b.data), b.len) : std::string(); }
};

inline const std::uint8_t* u8(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

inline double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

// Random kill moments, from GP_DURABILITY_SEED when set so that a failing run can be replayed.
inline std::mt19937_64 kill_moments(const char* what) {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("GP_DURABILITY_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("[durability] %s seed %llu (set GP_DURABILITY_SEED to replay)\n", what,
              static_cast<unsigned long long>(seed));
  return std::mt19937_64(seed);
}

// How long a child takes from "opening" to "opened" on each of the paths (the longest), so that
// kills can be spread over the whole open: creating or migrating a schema.
inline std::int64_t open_duration_ns(const std::vector<std::string>& paths) {
  std::int64_t longest = 0;
  for (const auto& path : paths) {
    Child c({"open-fresh", path});
    c.expect("opening");
    const auto t0 = now_ns();
    REQUIRE(c.expect("opened").at(1) == "0");
    longest = std::max(longest, now_ns() - t0);
    c.require_clean_exit();
  }
  return longest;
}

// Starts opening path in a child and SIGKILLs it delay_ns after it said "opening" (busy-waits
// for precision below a scheduler tick); returns the child's wait status.
inline int kill_during_open(const std::string& path, std::int64_t delay_ns) {
  Child c({"open-fresh", path});
  c.expect("opening");
  const auto until = now_ns() + delay_ns;
  while (now_ns() < until) {
  }
  c.kill();
  return c.wait();
}

// Waits until at least `count` threads of process pid sit in a futex wait (where an await
// sleeps), polling /proc; false if that did not happen within timeout_ms.
inline bool wait_in_futex(pid_t pid, int count, int timeout_ms);

// The futex system call's number, as /proc/PID/task/TID/syscall shows it.
#if defined(__x86_64__)
inline constexpr long kFutexSyscall = 202;
#elif defined(__aarch64__)
inline constexpr long kFutexSyscall = 98;
#else
inline constexpr long kFutexSyscall = -2;  // unknown: never matches
#endif

inline bool wait_in_futex(pid_t pid, int count, int timeout_ms) {
  const auto deadline = now_ns() + std::int64_t{timeout_ms} * 1000000;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  do {
    int n = 0;
    std::error_code ec;
    for (auto& t : std::filesystem::directory_iterator(dir, ec)) {
      std::ifstream f(t.path() / "syscall");
      std::string first;
      if (f >> first && first != "running") {
        try {
          if (std::stol(first) == kFutexSyscall) ++n;
        } catch (...) {
        }
      }
    }
    if (n >= count) return true;
    ::usleep(200);
  } while (now_ns() < deadline);
  return false;
}

}  // namespace gpd
