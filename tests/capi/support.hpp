// Small RAII helpers shared by the C ABI tests.  They only wrap handles and buffers so a
// failing REQUIRE cannot leak; every behaviour is asserted in the test files themselves.
#pragma once

#include <golem_promise.h>

#include <catch2/catch_test_macros.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gpt {

inline constexpr const char* kComponent = "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8";

// 64-bit FNV-1a, the hash the oplog records for payloads (DESIGN §3, header gp_oplog_entry_t).
inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline const std::uint8_t* u8(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

inline gp_uuid_t component_uuid(const char* text = kComponent) {
  gp_uuid_t u{};
  REQUIRE(gp_uuid_parse(&u, text) == GP_OK);
  return u;
}

inline gp_worker_id_t worker_id(const char* name, const char* component = kComponent) {
  gp_worker_id_t id{};
  gp_uuid_t u = component_uuid(component);
  REQUIRE(gp_worker_id_make(&id, &u, name) == GP_OK);
  return id;
}

inline std::string format(const gp_promise_id_t& id) {
  char buf[GP_PROMISE_ID_TEXT_SIZE];
  REQUIRE(gp_promise_id_format(buf, sizeof buf, &id) == GP_OK);
  return buf;
}

inline bool same_id(const gp_promise_id_t& a, const gp_promise_id_t& b) {
  return a.worker_id.component_id.high_bits == b.worker_id.component_id.high_bits &&
         a.worker_id.component_id.low_bits == b.worker_id.component_id.low_bits &&
         std::string(a.worker_id.worker_name) == b.worker_id.worker_name &&
         a.oplog_idx == b.oplog_idx;
}

// A payload owned by the test; frees itself.
struct Bytes {
  gp_bytes_t b{nullptr, 0};
  Bytes() = default;
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;
  ~Bytes() { gp_bytes_free(&b); }
  gp_bytes_t* out() {
    gp_bytes_free(&b);
    return &b;
  }
  std::string str() const {
    return b.len == 0 ? std::string() : std::string(reinterpret_cast<const char*>(b.data), b.len);
  }
};

struct Host {
  gp_host* h = nullptr;
  explicit Host(const std::string& path = ":memory:") {
    int rc = gp_host_open(&h, path.c_str(), nullptr);
    INFO("gp_host_open(" << path << "): " << gp_last_error_message());
    REQUIRE(rc == GP_OK);
    REQUIRE(h != nullptr);
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
  // flags 0 opens with gp_worker_open (an existing worker replays); else gp_worker_open_v2.
  Worker(gp_host* host, const char* name, const char* component = kComponent, std::uint32_t flags = 0)
      : id(worker_id(name, component)) {
    int rc = flags == 0 ? gp_worker_open(&w, host, &id) : gp_worker_open_v2(&w, host, &id, flags);
    INFO("gp_worker_open(" << name << "): " << gp_last_error_message());
    REQUIRE(rc == GP_OK);
    REQUIRE(w != nullptr);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { gp_worker_close(&w); }
  operator gp_worker*() const { return w; }

  gp_promise_id_t create() {
    gp_promise_id_t p{};
    int rc = gp_worker_create_promise(&p, w);
    INFO(gp_last_error_message());
    REQUIRE(rc == GP_OK);
    return p;
  }
};

inline std::uint64_t oplog_length(gp_host* h, const gp_worker_id_t& id) {
  std::uint64_t n = 0;
  int rc = gp_host_oplog_length(&n, h, &id);
  INFO(gp_last_error_message());
  REQUIRE(rc == GP_OK);
  return n;
}

inline gp_oplog_entry_t oplog_entry(gp_host* h, const gp_worker_id_t& id, std::uint64_t idx) {
  gp_oplog_entry_t e{};
  int rc = gp_host_oplog_read(&e, h, &id, idx);
  INFO("oplog entry " << idx << ": " << gp_last_error_message());
  REQUIRE(rc == GP_OK);
  return e;
}

// A fresh directory under the system temp dir, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (int i = 0; i < 100; ++i) {
      auto p = base / ("gp-capi-test-" + std::to_string(rd()) + std::to_string(rd()));
      if (std::filesystem::create_directory(p)) {
        path = p;
        return;
      }
    }
    FAIL("cannot create a temporary directory");
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(path)) out.push_back(e.path().filename().string());
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

using Clock = std::chrono::steady_clock;

inline long long ms_since(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// Releases many threads at once so they really race.
class StartLine {
 public:
  explicit StartLine(int n) : waiting_(n) {}
  void arrive_and_wait() {
    waiting_.fetch_sub(1);
    while (waiting_.load() > 0) std::this_thread::yield();
  }

 private:
  std::atomic<int> waiting_;
};

}  // namespace gpt
