#include "wal_sync.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "doorbell.hpp"
#include "core/error.hpp"

namespace gp {

namespace {
// Words of the doorbell file (32-bit; see doorbell.cpp for the first 1029).  Files made before
// these existed are zero here, and so is a file reset for a new boot.
constexpr std::size_t kBase = 1536;
constexpr std::size_t kStamp = kBase;             // 4 words: the boot id the counters belong to
constexpr std::size_t kWrites = kBase + 4;
constexpr std::size_t kWritesDone = kBase + 5;
constexpr std::size_t kSynced = kBase + 6;
constexpr std::size_t kSyncer = kBase + 7;
constexpr std::size_t kRounds = kBase + 8;
constexpr std::size_t kRoundWaiters = kBase + 9;
constexpr std::size_t kFsyncs = kBase + 10;
constexpr std::size_t kControlEnd = kBase + 16;
constexpr std::size_t kTickets = 1792;            // kTicketSlots slot tickets, to the file's end
constexpr std::size_t kTicketSlots = 256;
constexpr std::size_t kEnd = kTickets + kTicketSlots;
static_assert(kControlEnd <= kTickets, "layout");

// Serial-number order: a has reached b (wraps after 2^31 transactions, far beyond any gap).
bool reached(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) >= 0; }

void raise_to(std::atomic<std::uint32_t>* w, std::uint32_t v) {
  auto cur = w->load(std::memory_order_seq_cst);
  while (!reached(cur, v) && !w->compare_exchange_weak(cur, v, std::memory_order_seq_cst)) {
  }
}

// The kernel's random id of this boot, as 4 words; false if it cannot be read.
bool boot_id(std::uint32_t out[4]) {
  char text[64] = {};
  const int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const auto n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return false;
  int digits = 0;
  std::uint32_t words[4] = {};
  for (const char* p = text; *p && digits < 32; ++p) {
    int v;
    if (*p >= '0' && *p <= '9') v = *p - '0';
    else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
    else if (*p == '-') continue;
    else break;
    words[digits / 8] = (words[digits / 8] << 4) | static_cast<std::uint32_t>(v);
    ++digits;
  }
  if (digits != 32 || (words[0] | words[1] | words[2] | words[3]) == 0) return false;
  std::memcpy(out, words, sizeof words);
  return true;
}

bool thread_alive(std::uint32_t tid) {
  // kill() accepts any thread's id and checks that it exists (EPERM: it does, owned by others).
  return ::kill(static_cast<pid_t>(tid), 0) == 0 || errno == EPERM;
}

std::uint32_t this_thread_id() {
  thread_local const auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
  return tid;
}
}  // namespace

std::unique_ptr<WalSync> WalSync::open(Doorbell* bell, const std::string& wal_path, bool with_fd) {
  if (!bell || bell->size_ < kEnd * sizeof(std::uint32_t) || bell->fd_ < 0) return nullptr;
  std::uint32_t boot[4];
  if (!boot_id(boot)) return nullptr;
  // The first process of this boot resets the counters; flock keeps two first openers from
  // resetting each other's work, and every later one sees the stamp and leaves them alone.
  if (::flock(bell->fd_, LOCK_EX) != 0) return nullptr;
  auto* w = static_cast<std::atomic<std::uint32_t>*>(bell->map_);
  bool current = true;
  for (int i = 0; i < 4; ++i) current = current && w[kStamp + i].load() == boot[i];
  if (!current) {
    for (std::size_t i = kStamp; i < kControlEnd; ++i) w[i].store(0);
    for (std::size_t i = kTickets; i < kEnd; ++i) w[i].store(0);
    for (int i = 0; i < 4; ++i) w[kStamp + i].store(boot[i]);
  }
  ::flock(bell->fd_, LOCK_UN);

  int fd = -1;
  struct stat st {};
  if (with_fd) {
    // O_RDWR, no O_CREAT: the WAL exists while the connection is in WAL mode.  SQLite holds no
    // POSIX locks on the WAL file (they are on the database and -shm files), so closing this
    // descriptor never drops one of SQLite's locks.
    fd = ::open(wal_path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 && ::fstat(fd, &st) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  std::unique_ptr<WalSync> out(new WalSync(bell, wal_path, fd));
  out->dev_ = st.st_dev;
  out->ino_ = st.st_ino;
  return out;
}

WalSync::WalSync(Doorbell* bell, std::string wal_path, int fd) : bell_(bell), wal_path_(std::move(wal_path)), fd_(fd) {}

WalSync::~WalSync() {
  if (fd_ >= 0) ::close(fd_);
}

std::atomic<std::uint32_t>* WalSync::word(std::size_t index) const { return bell_->word(index); }

std::uint32_t WalSync::begin_commit() { return word(kWrites)->fetch_add(1, std::memory_order_seq_cst) + 1; }

void WalSync::mark(std::size_t slot, std::uint32_t number) { raise_to(word(kTickets + slot % kTicketSlots), number); }

void WalSync::end_commit(std::uint32_t number) { raise_to(word(kWritesDone), number); }

std::uint32_t WalSync::slot_ticket(std::size_t slot) const {
  return word(kTickets + slot % kTicketSlots)->load(std::memory_order_seq_cst);
}

std::uint32_t WalSync::ticket() const { return word(kWrites)->load(std::memory_order_seq_cst); }

std::uint32_t WalSync::fsyncs() const { return word(kFsyncs)->load(); }

std::uint32_t WalSync::writes() const { return word(kWrites)->load(); }

int WalSync::sync_wal() {
  std::lock_guard lock(fd_mu_);
  // The WAL cannot be replaced while this host's connection is open (SQLite deletes it only
  // when the last connection closes), but check rather than sync the wrong file.
  struct stat st {};
  if (::stat(wal_path_.c_str(), &st) == 0 && (st.st_dev != dev_ || st.st_ino != ino_)) {
    const int fd = ::open(wal_path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      ::close(fd_);
      fd_ = fd;
      dev_ = st.st_dev;
      ino_ = st.st_ino;
    }
  }
  return ::fdatasync(fd_) == 0 ? 0 : errno;
}

void WalSync::sync_round(std::uint32_t me) {
  // Everything up to w - 1 has finished writing (w took its number after w - 1 let the write
  // lock go); w itself too if its COMMIT has returned.
  const auto w = word(kWrites)->load(std::memory_order_seq_cst);
  const auto d = word(kWritesDone)->load(std::memory_order_seq_cst);
  const auto covered = reached(d, w) ? w : w - 1;
  const int err = sync_wal();
  word(kFsyncs)->fetch_add(1, std::memory_order_relaxed);
  if (err == 0) raise_to(word(kSynced), covered);
  auto mine = me;
  word(kSyncer)->compare_exchange_strong(mine, 0, std::memory_order_seq_cst);  // unless taken over
  bell_->bump(kRounds, kRoundWaiters);
  if (err != 0) {
    // Linux reports a write-back error to each descriptor once and may have dropped the pages:
    // a later fdatasync that succeeds proves nothing, so this host promises nothing any more.
    failed_.store(err);
    throw_failed();
  }
}

void WalSync::throw_failed() const {
  throw Error(Errc::io, "fdatasync of '" + wal_path_ + "' failed: " + std::strerror(failed_.load()) +
                            " (what this host committed since its last sync may not survive a power failure; "
                            "reopen the host once the disk is sound)");
}

void WalSync::wait(std::uint32_t number) {
  if (failed_.load()) throw_failed();
  auto* synced = word(kSynced);
  auto* syncer = word(kSyncer);
  if (reached(synced->load(std::memory_order_seq_cst), number)) return;
  const auto me = this_thread_id();
  using clock = std::chrono::steady_clock;
  // The last state seen of (syncer, rounds) and since when: unchanged for kStuck means stuck.
  std::uint32_t seen_holder = 0, seen_rounds = 0;
  auto since = clock::now();
  for (;;) {
    const auto rounds = word(kRounds)->load(std::memory_order_seq_cst);
    if (reached(synced->load(std::memory_order_seq_cst), number)) return;
    auto holder = syncer->load(std::memory_order_seq_cst);
    if (holder == 0) {
      if (syncer->compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
        sync_round(me);
        return;  // synced after being called: covers our commit or read whatever the counters say
      }
      continue;
    }
    const auto now = clock::now();
    if (holder != seen_holder || rounds != seen_rounds) {
      seen_holder = holder;
      seen_rounds = rounds;
      since = now;
    } else if (now - since >= kStuck || !thread_alive(holder)) {
      // Its syncer died (or hangs): take the flag over and sync.
      if (syncer->compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
        sync_round(me);
        return;
      }
      continue;
    }
    bell_->sleep_on(kRounds, kRoundWaiters, rounds, std::min(now + kStep, since + kStuck));
  }
}

}  // namespace gp
