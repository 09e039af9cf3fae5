// Section 4: large payload complete + await (NORMAL and FULL): MiB/s and RSS in forked children,
// next to raw SQLite blob I/O of the same statements and a plain file write/read.
#include "sections.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ section 4: large payloads

namespace {

void fill_payload(std::uint8_t* p, std::size_t n) {
  std::uint64_t s = 42;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t v = splitmix(s);
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<std::uint8_t>(i);
}

bool payload_ok(const std::uint8_t* p, std::size_t n) {
  std::uint64_t s = 42;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const std::uint64_t v = splitmix(s);
    if (std::memcmp(p + i, &v, 8) != 0) return false;
  }
  return true;
}

// What a payload child reports: seconds of its timed part, and RSS in KiB.
enum { K_SECS, K_BASE, K_AFTER_ALLOC, K_PEAK, K_MAXRSS, K_SECS2, K_COUNT };

// The child's RSS before its own buffers and its peak (VmHWM reset after opening the host).
struct RssProbe {
  double base = 0;
  RssProbe() {
    if (!reset_peak_rss()) fail("cannot reset peak RSS (/proc/self/clear_refs)");
    base = static_cast<double>(proc_status_kib("VmRSS"));
  }
  static double peak() { return static_cast<double>(proc_status_kib("VmHWM")); }
};

std::uint8_t* alloc_payload(std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(std::malloc(n));
  if (!p) fail("malloc %zu", n);
  fill_payload(p, n);
  return p;
}

}  // namespace

void section_payload() {
  const std::size_t len = cfg.payload_mib << 20;
  std::printf("\n== 4. %zu MiB payload: complete and await on a file host (each step in a fresh forked child)\n",
              cfg.payload_mib);
  const double mib = static_cast<double>(len) / (1 << 20);
  const std::string tpl = path_in_dir("gp-durable-big-template.db");
  const std::string work = path_in_dir("gp-durable-big.db");
  const std::string plain = path_in_dir("gp-durable-big.bin");
  populate(tpl, 2);
  for (int sync : {GP_SYNCHRONOUS_NORMAL, GP_SYNCHRONOUS_FULL}) {
    capture_pragmas(path_in_dir("gp-durable-pragmas.db"), sync);
    remove_db(path_in_dir("gp-durable-pragmas.db"));
  }
  // Results by name; each vector holds one value per repeat.
  enum { C_OURS, A_OURS, CA_OURS, C_RAW, A_RAW, W_FILE, R_FILE, NK };
  const char* const names[NK] = {
      "golem-promise complete (child A)",    "golem-promise await (child B)",
      "golem-promise complete+await (C)",    "raw SQLite complete, same statements",
      "raw SQLite read (BEGIN; SELECT; blob)", "plain file write (+ fdatasync if FULL)",
      "plain file read (page cache)",
  };
  for (int sync : {GP_SYNCHRONOUS_NORMAL, GP_SYNCHRONOUS_FULL}) {
    std::vector<double> mbs[NK], over[NK], peak[NK], base[NK], maxrss[NK];
    for (int rep = 0; rep < cfg.payload_repeats; ++rep) {
      // A: complete in one process, B: await in another (the cross-process use).
      copy_db(tpl, work);
      auto a = in_child([&] {
        gp_host* h = open_host(work, sync);
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const auto p = pid_of(2);
        int done = 0;
        const double t0 = now_s();
        check(gp_host_complete_promise(&done, h, &p, buf, len), "gp_host_complete_promise (large)");
        const double t1 = now_s();
        if (done != 1) fail("large completion returned false");
        const double pk = RssProbe::peak();
        gp_host_close(&h);
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, after, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      auto b = in_child([&] {
        gp_host* h = open_host(work, sync);
        RssProbe probe;
        const auto p = pid_of(2);
        gp_bytes_t out{nullptr, 0};
        const double t0 = now_s();
        check(gp_host_await_promise(&out, h, &p, 60000), "gp_host_await_promise (large)");
        const double t1 = now_s();
        const double pk = RssProbe::peak();
        if (out.len != len || !payload_ok(out.data, out.len)) fail("large await returned other bytes");
        gp_bytes_free(&out);
        gp_host_close(&h);
        return std::vector<double>{t1 - t0, probe.base, probe.base, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      remove_db(work);
      // C: complete, free the input, await, in one process (the peak the issue bounds).
      copy_db(tpl, work);
      auto c = in_child([&] {
        gp_host* h = open_host(work, sync);
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const auto p = pid_of(2);
        int done = 0;
        const double t0 = now_s();
        check(gp_host_complete_promise(&done, h, &p, buf, len), "gp_host_complete_promise (large)");
        const double t1 = now_s();
        std::free(buf);
        gp_bytes_t out{nullptr, 0};
        check(gp_host_await_promise(&out, h, &p, 60000), "gp_host_await_promise (large)");
        const double t2 = now_s();
        const double pk = RssProbe::peak();
        if (out.len != len || !payload_ok(out.data, out.len)) fail("large await returned other bytes");
        gp_bytes_free(&out);
        gp_host_close(&h);
        return std::vector<double>{t1 - t0, probe.base, after, pk, static_cast<double>(ru_maxrss_kib()), t2 - t1};
      });
      remove_db(work);
      // Raw SQLite: the same statements and blob I/O, complete and read in separate children.
      copy_db(tpl, work);
      auto rc = in_child([&] {
        Raw r(work, sync);
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const double t0 = now_s();
        if (!r.complete(2, buf, len)) fail("raw large completion found no pending promise");
        const double t1 = now_s();
        const double pk = RssProbe::peak();
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, after, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      auto ra = in_child([&] {
        Raw r(work, sync);
        RssProbe probe;
        std::size_t n = 0;
        const double t0 = now_s();
        auto* out = r.read_large(2, &n);
        const double t1 = now_s();
        const double pk = RssProbe::peak();
        if (n != len || !payload_ok(out, n)) fail("raw large read returned other bytes");
        std::free(out);
        return std::vector<double>{t1 - t0, probe.base, probe.base, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      remove_db(work);
      // Plain file: the bytes once, written in 8 MiB chunks, then read back.
      auto fw = in_child([&] {
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const double t0 = now_s();
        const int fd = ::open(plain.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) fail("open %s", plain.c_str());
        for (std::size_t off = 0; off < len; off += 8u << 20) write_all(fd, buf + off, std::min<std::size_t>(8u << 20, len - off));
        if (sync == GP_SYNCHRONOUS_FULL && fdatasync(fd) != 0) fail("fdatasync");
        ::close(fd);
        const double t1 = now_s();
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, after, RssProbe::peak(), static_cast<double>(ru_maxrss_kib()), 0};
      });
      auto fr = in_child([&] {
        RssProbe probe;
        const double t0 = now_s();
        auto* buf = static_cast<std::uint8_t*>(std::malloc(len));
        const int fd = ::open(plain.c_str(), O_RDONLY | O_CLOEXEC);
        if (!buf || fd < 0) fail("open %s", plain.c_str());
        if (!read_all(fd, buf, len)) fail("read %s", plain.c_str());
        ::close(fd);
        const double t1 = now_s();
        if (!payload_ok(buf, len)) fail("plain file read back other bytes");
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, probe.base, RssProbe::peak(), static_cast<double>(ru_maxrss_kib()), 0};
      });
      ::unlink(plain.c_str());
      const std::vector<double>* res[NK] = {&a, &b, &c, &rc, &ra, &fw, &fr};
      for (int k = 0; k < NK; ++k) {
        const auto& v = *res[k];
        mbs[k].push_back(mib / v[K_SECS]);
        // The library's (or SQLite's) own memory: peak minus the RSS before the child's own
        // buffers, minus those buffers (the input while completing, the returned output).
        over[k].push_back((v[K_PEAK] - v[K_BASE]) / 1024 - mib);  // each child holds one payload-sized buffer
        peak[k].push_back(v[K_PEAK] / 1024);
        base[k].push_back(v[K_BASE] / 1024);
        maxrss[k].push_back(v[K_MAXRSS] / 1024);
      }
      mbs[CA_OURS].back() = mib / c[K_SECS2];  // C's rate: its await (its complete is as A)
    }
    std::printf("  synchronous %s, %d repeats; MB/s = MiB of payload per second of the call; RSS in MiB\n", sync_name(sync),
                cfg.payload_repeats);
    std::printf("  %-40s %9s %9s %9s %9s %11s %11s\n", "", "MiB/s best", "(median)", "base RSS", "peak RSS",
                "peak-base", "- buffers");
    for (int k = 0; k < NK; ++k) {
      const auto m = summarize(mbs[k], true);
      const double pk = summarize(peak[k], false).worst, bs = summarize(base[k], false).median;
      const double ov = summarize(over[k], false).worst;
      std::printf("  %-40s %9.0f %9.0f %9.1f %9.1f %11.1f %11.1f\n", names[k], m.best, m.median, bs, pk,
                  ov + mib, ov);
    }
    const auto ca_peak_over_base = summarize(over[CA_OURS], false).worst + mib;  // peak - base of child C
    const bool ok = ca_peak_over_base < mib + 32;
    std::printf("  (C's MiB/s is its await; \"- buffers\" subtracts one payload-sized buffer of the caller: the input\n"
                "   while completing, the returned payload while awaiting; C frees its input before awaiting.)\n");
    std::printf("  target: peak of complete + await (child C) - base RSS < payload + 32 MiB: %.1f MiB vs %.0f MiB: %s\n",
                ca_peak_over_base, mib + 32, ok ? "met" : "NOT met");
    std::printf("  ru_maxrss of child C (includes the parent's RSS at fork): %.1f MiB\n", summarize(maxrss[CA_OURS], false).worst);
    const auto ca = summarize(mbs[C_OURS], true), aa = summarize(mbs[A_OURS], true);
    const auto cr = summarize(mbs[C_RAW], true), ar = summarize(mbs[A_RAW], true);
    const auto wf = summarize(mbs[W_FILE], true), rf = summarize(mbs[R_FILE], true);
    std::printf("  ours/raw SQLite (median): complete %.0f%%, await %.0f%%; ours/plain file: complete %.0f%%, await %.0f%%\n",
                100 * ca.median / cr.median, 100 * aa.median / ar.median, 100 * ca.median / wf.median,
                100 * aa.median / rf.median);
    std::printf("RESULT durable payload_%s mib=%.0f complete_mibs_best=%.0f complete_mibs_median=%.0f await_mibs_best=%.0f "
                "await_mibs_median=%.0f raw_complete_mibs_median=%.0f raw_read_mibs_median=%.0f file_write_mibs_median=%.0f "
                "file_read_mibs_median=%.0f complete_over_mib=%.1f await_over_mib=%.1f ca_peak_minus_base_mib=%.1f "
                "raw_complete_over_mib=%.1f raw_read_over_mib=%.1f\n",
                sync == GP_SYNCHRONOUS_FULL ? "full" : "normal", mib, ca.best, ca.median, aa.best, aa.median, cr.median,
                ar.median, wf.median, rf.median, summarize(over[C_OURS], false).worst, summarize(over[A_OURS], false).worst,
                ca_peak_over_base, summarize(over[C_RAW], false).worst, summarize(over[A_RAW], false).worst);
    std::fflush(stdout);
  }
  remove_db(tpl);
}

}  // namespace gpbench
