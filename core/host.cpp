// Host plumbing: opening, workers, oplog access and the change feed, over the store.
#include "host.hpp"

#include <utility>

#include "error.hpp"

namespace gp {

std::shared_ptr<Host> Host::open(std::unique_ptr<Store> store) {
  if (!store) throw Error(Errc::invalid, "a host needs a store");
  return std::shared_ptr<Host>(new Host(std::move(store)));
}

Host::~Host() = default;

// ---------------------------------------------------------------- workers and oplog

std::unique_ptr<Worker> Host::open_worker(const WorkerId& id, bool live) {
  validate_worker_name(id.worker_name);
  auto& store = *store_;
  SyncTicket ticket;
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard lock(store.mutex());
    auto row = store.find_worker(id);
    if (!row) {
      Write write(store);
      const bool created = store.add_worker(id);
      row = store.find_worker(id);
      if (!row) throw Error(Errc::internal, "worker row vanished after insert");
      if (created) {
        OplogEntry e;
        e.kind = OplogKind::create;
        append_entry(*row, e);
      }
      ticket = write.commit();
    }
    worker.reset(new Worker(shared_from_this(), id, *row));
    if (live) {
      worker->last_seen_ = store.last_index(*row);
    } else {
      worker->start_replay();
      // What it replays must be durable before it is handed out again (a previous run may have
      // died between its commit and its sync).
      if (worker->replay_end_ >= 2) {
        if (auto t = store.read_ticket(nullptr)) ticket = t;
      }
    }
  }
  store.wait_durable(ticket);
  return worker;
}

bool Host::has_worker(const WorkerId& id) {
  std::lock_guard lock(store_->mutex());
  return store_->find_worker(id).has_value();
}

std::uint64_t Host::append_entry(WorkerRef worker, OplogEntry& entry) {
  if (entry.idx == 0) entry.idx = store_->next_index(worker);
  store_->append(worker, entry);
  return entry.idx;
}

std::uint64_t Host::append_as(const Worker& w, OplogEntry& entry) {
  if (entry.idx == 0) entry.idx = store_->next_index(w.row_);
  // A longer oplog means another handle appended.  A shorter one is only this handle's own
  // entry rolled back with a failed transaction: the index is free again, nothing interleaved.
  if (entry.idx > w.last_seen_ + 1) {
    throw Error(Errc::conflict,
                "worker " + w.id_.to_string() + " has oplog entries up to " + std::to_string(entry.idx - 1) +
                    " but this handle of it last saw " + std::to_string(w.last_seen_) +
                    ": another handle of the same worker appended to its oplog, and a worker runs in one "
                    "place at a time; restart this handle to replay the oplog as it is now, or use one handle");
  }
  append_entry(w.row_, entry);
  w.last_seen_ = entry.idx;
  return entry.idx;
}

std::uint64_t Host::oplog_length(const WorkerId& id) {
  std::uint64_t n;
  SyncTicket ticket;
  {
    std::lock_guard lock(store_->mutex());
    const auto row = store_->find_worker(id);
    if (!row) throw Error(Errc::worker_not_found, "no worker " + id.to_string() + " in this host");
    n = store_->last_index(*row);
    ticket = store_->read_ticket(nullptr);
  }
  store_->wait_durable(ticket);
  return n;
}

OplogEntry Host::oplog_read(const WorkerId& id, std::uint64_t idx) {
  std::optional<OplogEntry> e;
  SyncTicket ticket;
  {
    std::lock_guard lock(store_->mutex());
    const auto row = store_->find_worker(id);
    if (!row) throw Error(Errc::worker_not_found, "no worker " + id.to_string() + " in this host");
    try {
      e = store_->read_entry(*row, idx);
    } catch (const Error& err) {
      if (err.code() != Errc::no_entry) throw;
      throw Error(Errc::no_entry, "worker " + id.to_string() + " has no oplog entry " + std::to_string(idx));
    }
    ticket = store_->read_ticket(nullptr);
  }
  store_->wait_durable(ticket);
  return std::move(*e);
}

// ---------------------------------------------------------------- change feed

int Host::change_fd() { return store_->change_fd(); }
void Host::change_ack() { store_->change_ack(); }
std::uint64_t Host::change_counter() { return store_->change_counter(); }

}  // namespace gp
