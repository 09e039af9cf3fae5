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
#include <functional>

namespace gp {

namespace {
constexpr std::size_t kSlots = 1024;                 // one counter per promise hash
constexpr std::size_t kAnySlot = kSlots;              // bumped by every ring: "something changed"
constexpr std::size_t kSize = 2 * 4096;               // two pages; older one-page files grow
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "futex word is 32 bits");
}  // namespace

std::unique_ptr<Doorbell> Doorbell::open(const std::string& db_path) {
  const std::string path = db_path + "-gpwake";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return nullptr;
  struct stat st {};
  // Growing an existing file is harmless: every process then maps the same zeroed page.
  if (fstat(fd, &st) != 0 || (static_cast<std::size_t>(st.st_size) < kSize && ftruncate(fd, kSize) != 0)) {
    ::close(fd);
    return nullptr;
  }
  void* map = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file referenced
  if (map == MAP_FAILED) return nullptr;
  return std::unique_ptr<Doorbell>(new Doorbell(map, kSize));
}

Doorbell::~Doorbell() { munmap(map_, size_); }

std::size_t Doorbell::slot_of(const PromiseId& id) {
  std::size_t h = std::hash<std::string>()(id.worker_id.worker_name);
  h ^= id.worker_id.component_id.high_bits * 0x9e3779b97f4a7c15ULL;
  h ^= id.worker_id.component_id.low_bits * 0xc2b2ae3d27d4eb4fULL;
  h ^= id.oplog_idx * 0x165667b19e3779f9ULL;
  return (h ^ (h >> 29)) % kSlots;
}

std::atomic<std::uint32_t>* Doorbell::slot_ptr(std::size_t slot) const {
  return static_cast<std::atomic<std::uint32_t>*>(map_) + slot;
}

std::uint32_t Doorbell::read(std::size_t slot) const { return slot_ptr(slot)->load(std::memory_order_acquire); }

std::size_t Doorbell::any_slot() { return kAnySlot; }

void Doorbell::ring(std::size_t slot) {
  for (auto* word : {slot_ptr(slot), slot_ptr(kAnySlot)}) {
    word->fetch_add(1, std::memory_order_acq_rel);
    // Shared (not FUTEX_PRIVATE) so waiters in other processes mapping the file are woken too.
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }
}

void Doorbell::wait(std::size_t slot, std::uint32_t seen, std::chrono::steady_clock::time_point until) const {
  const auto left = until - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  // Returns at once if the counter already moved (EAGAIN); EINTR and timeouts just re-check.
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(slot_ptr(slot)), FUTEX_WAIT, seen, &ts, nullptr, 0);
}

}  // namespace gp
