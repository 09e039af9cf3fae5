// Shared by the durability tests and the child program they spawn: payload patterns, ids and
// the system-wide clock.  Header-only and free of Catch2, so the child links nothing but the
// library.
#pragma once

#include <golem_promise.h>

#include <time.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace gpd {

inline constexpr const char* kComponent = "d0d1d2d3-e4e5-f6f7-a8a9-aaabacadaeaf";

// CLOCK_MONOTONIC is one clock for every process on the machine, so a time taken in a child
// and one taken in the parent can be subtracted.
inline std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A position-dependent byte pattern: no period a misplaced chunk could hide behind.
inline void fill_pattern(std::uint8_t* out, std::size_t len, std::uint64_t seed) {
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    const std::uint64_t w = splitmix64(seed ^ (i * 0x100000001b3ULL));
    std::memcpy(out + i, &w, 8);
  }
  if (i < len) {
    const std::uint64_t w = splitmix64(seed ^ (i * 0x100000001b3ULL));
    std::memcpy(out + i, &w, len - i);
  }
}

// Offset of the first byte of data[0..len) that differs from the pattern, or -1.
inline std::int64_t pattern_mismatch(const std::uint8_t* data, std::size_t len, std::uint64_t seed) {
  std::uint8_t chunk[64 * 1024];
  for (std::size_t off = 0; off < len; off += sizeof chunk) {
    const std::size_t n = len - off < sizeof chunk ? len - off : sizeof chunk;
    // The pattern is defined per 8-byte word from the start, and chunks are 8-aligned.
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const std::uint64_t w = splitmix64(seed ^ ((off + i) * 0x100000001b3ULL));
      std::memcpy(chunk + i, &w, 8);
    }
    if (i < n) {
      const std::uint64_t w = splitmix64(seed ^ ((off + i) * 0x100000001b3ULL));
      std::memcpy(chunk + i, &w, n - i);
    }
    if (std::memcmp(chunk, data + off, n) != 0) {
      for (std::size_t j = 0; j < n; ++j) {
        if (chunk[j] != data[off + j]) return static_cast<std::int64_t>(off + j);
      }
    }
  }
  return -1;
}

inline std::uint64_t fnv1a64(const void* data, std::size_t len) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < len; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

// The payload the race children complete with: who (process, thread) and which promise.
inline std::string race_payload(int process, int thread, std::uint64_t idx) {
  return "race p" + std::to_string(process) + " t" + std::to_string(thread) + " promise " + std::to_string(idx);
}

// The payload the crash-loop child completes promise idx with in round `round`.  Every 16th is
// larger than the 64 KiB inline limit, so incremental blob I/O is killed mid-way too.
inline std::size_t crash_payload_len(std::uint64_t idx) { return idx % 16 == 0 ? 96 * 1024 + idx : 24 + idx % 200; }
inline std::uint64_t crash_payload_seed(std::uint64_t idx, int round) {
  return (idx << 8) ^ static_cast<std::uint64_t>(round) ^ 0xc0ffeeULL;
}

inline bool make_worker_id(gp_worker_id_t* out, const char* name) {
  gp_uuid_t u{};
  return gp_uuid_parse(&u, kComponent) == GP_OK && gp_worker_id_make(out, &u, name) == GP_OK;
}

inline gp_promise_id_t promise_id(const gp_worker_id_t& w, std::uint64_t idx) {
  gp_promise_id_t p{};
  p.worker_id = w;
  p.oplog_idx = idx;
  return p;
}

}  // namespace gpd
