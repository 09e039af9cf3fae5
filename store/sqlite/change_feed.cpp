#include "change_feed.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "doorbell.hpp"
#include "core/error.hpp"

namespace gp {

ChangeFeed::ChangeFeed(bool file_host, const Doorbell* bell, std::chrono::microseconds fallback)
    : bell_(bell), fallback_(fallback) {
  fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd_ < 0) throw Error(Errc::io, std::string("cannot create the change feed's eventfd: ") + std::strerror(errno));
  if (file_host) watcher_ = std::thread([this] { watch(); });
}

ChangeFeed::~ChangeFeed() {
  stop_.store(true);
  if (watcher_.joinable()) watcher_.join();  // it re-checks stop_ at least every fallback
  ::close(fd_);
}

void ChangeFeed::notify() {
  const std::uint64_t one = 1;
  // A full counter (EAGAIN) already means "readable": nothing is lost.
  [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
}

void ChangeFeed::ack() {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(fd_, &value, sizeof value);
}

void ChangeFeed::watch() {
  const auto slot = Doorbell::any_slot();
  // The wait is bounded so stop_ is seen promptly; the fallback notification is the safety net.
  const auto step = std::min<std::chrono::microseconds>(fallback_, std::chrono::milliseconds(50));
  auto next_fallback = std::chrono::steady_clock::now() + fallback_;
  auto seen = bell_ ? bell_->read(slot) : 0u;
  while (!stop_.load()) {
    if (bell_) {
      bell_->wait(slot, seen, std::chrono::steady_clock::now() + step);
    } else {
      std::this_thread::sleep_for(step);
    }
    const auto now_seen = bell_ ? bell_->read(slot) : 0u;
    const auto now = std::chrono::steady_clock::now();
    if (now_seen != seen || now >= next_fallback) {
      seen = now_seen;
      next_fallback = now + fallback_;
      notify();
    }
  }
}

}  // namespace gp
