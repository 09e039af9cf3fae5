#include "doorbell.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

#include "core/oplog.hpp"

namespace gp {

namespace {
// Words of the shared file.  Files made by older versions are zero there, which is each word's
// starting value.
constexpr std::size_t kSlots = 1024;                 // 0..1023: one counter per promise hash
constexpr std::size_t kAnySlot = kSlots;              // bumped by every ring: "something changed"
constexpr std::size_t kSlotWaiters = kSlots + 1;      // sleepers on any of the promise slots
constexpr std::size_t kAnyWaiters = kSlots + 2;       // sleepers on the "any" slot
constexpr std::size_t kLockCounter = kSlots + 3;      // bumped after every write transaction
constexpr std::size_t kLockWaiters = kSlots + 4;      // writers sleeping on it
constexpr std::size_t kSize = 2 * 4096;               // two pages; older one-page files grow
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "futex word is 32 bits");
static_assert((kLockWaiters + 1) * sizeof(std::uint32_t) <= kSize, "words fit the file");
}  // namespace

std::unique_ptr<Doorbell> Doorbell::open(const std::string& db_file) {
  const std::string path = db_file + "-gpwake";
  // Made with the database file's permission bits (and, by root, its owner), as SQLite makes
  // -wal and -shm: whoever may write the database may ring and sleep on its doorbell too.
  struct stat db {};
  const bool have_db = ::stat(db_file.c_str(), &db) == 0;
  const mode_t mode = have_db ? (db.st_mode & 0777) : 0666;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0) return nullptr;
  struct stat st {};
  // Empty: this process (or another one just now) created it, and the umask may have taken
  // bits away.  A file in use keeps the mode and owner it has.  Should either call fail, other
  // users' waiters that cannot open the file fall back to the poll, as before.
  if (have_db && fstat(fd, &st) == 0 && st.st_size == 0) {
    if ((st.st_mode & 0777) != mode && fchmod(fd, mode) != 0) {
    }
    if (::geteuid() == 0 && (st.st_uid != db.st_uid || st.st_gid != db.st_gid) &&
        fchown(fd, db.st_uid, db.st_gid) != 0) {
    }
  }
  // Growing an existing file is harmless: every process then maps the same zeroed page.  The
  // blocks are allocated, not left sparse (ftruncate): a store into a page of a mapping that the
  // filesystem cannot back is a SIGBUS, so on a full disk this fails here, cleanly, and the host
  // falls back to polling.  A sparse file made by an older version is filled in the same way.
  // fallocate(2) itself, not posix_fallocate: glibc emulates the latter by writing zero bytes,
  // which could overwrite a word another process is changing; where the filesystem has no
  // fallocate, the file is sized as before.
  bool sized = fstat(fd, &st) == 0;
  if (sized && ::fallocate(fd, 0, 0, static_cast<off_t>(kSize)) != 0) {
    sized = (errno == EOPNOTSUPP || errno == ENOSYS) &&
            (static_cast<std::size_t>(st.st_size) >= kSize || ftruncate(fd, kSize) == 0);
  }
  if (!sized) {
    ::close(fd);
    return nullptr;
  }
  void* map = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<Doorbell>(new Doorbell(map, kSize, fd));
}

Doorbell::~Doorbell() {
  munmap(map_, size_);
  ::close(fd_);
}

std::size_t Doorbell::slot_of(const PromiseId& id) {
  // Part of the file's format: every process on the file must pick the same slot, whichever C++
  // library or compiler built it (std::hash differs between them).
  const auto& name = id.worker_id.worker_name;
  std::uint8_t ints[24];
  const std::uint64_t values[3] = {id.worker_id.component_id.high_bits, id.worker_id.component_id.low_bits,
                                   id.oplog_idx};
  for (std::size_t i = 0; i < 24; ++i) ints[i] = static_cast<std::uint8_t>(values[i / 8] >> (8 * (i % 8)));
  const auto h = fnv1a64(ints, sizeof ints, fnv1a64(reinterpret_cast<const std::uint8_t*>(name.data()), name.size()));
  return static_cast<std::size_t>(h % kSlots);
}

std::atomic<std::uint32_t>* Doorbell::word(std::size_t index) const {
  return static_cast<std::atomic<std::uint32_t>*>(map_) + index;
}

std::uint32_t Doorbell::read(std::size_t slot) const { return word(slot)->load(std::memory_order_acquire); }

std::size_t Doorbell::any_slot() { return kAnySlot; }

void Doorbell::bump(std::size_t counter, std::size_t waiters) {
  auto* w = word(counter);
  // Sequentially consistent on both sides: either the sleeper's count is seen here, or the
  // kernel sees the new counter value when the sleeper's FUTEX_WAIT compares it.
  w->fetch_add(1, std::memory_order_seq_cst);
  if (word(waiters)->load(std::memory_order_seq_cst) == 0) return;
  // Shared (not FUTEX_PRIVATE) so waiters in other processes mapping the file are woken too.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void Doorbell::sleep_on(std::size_t counter, std::size_t waiters, std::uint32_t seen,
                        std::chrono::steady_clock::time_point until) const {
  const auto left = until - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  word(waiters)->fetch_add(1, std::memory_order_seq_cst);
  // Returns at once if the counter already moved (EAGAIN); EINTR and timeouts just re-check.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word(counter)), FUTEX_WAIT, seen, &ts, nullptr, 0);
  word(waiters)->fetch_sub(1, std::memory_order_seq_cst);
}

void Doorbell::ring(std::size_t slot) {
  bump(slot, kSlotWaiters);
  bump(kAnySlot, kAnyWaiters);
}

void Doorbell::wait(std::size_t slot, std::uint32_t seen, std::chrono::steady_clock::time_point until) const {
  sleep_on(slot, slot == kAnySlot ? kAnyWaiters : kSlotWaiters, seen, until);
}

std::uint32_t Doorbell::lock_generation() const { return word(kLockCounter)->load(std::memory_order_acquire); }

void Doorbell::ring_lock_released() { bump(kLockCounter, kLockWaiters); }

void Doorbell::wait_lock(std::uint32_t seen, std::chrono::steady_clock::time_point until) const {
  sleep_on(kLockCounter, kLockWaiters, seen, until);
}

}  // namespace gp
