// Listing a host's promises: a read-only query over the oplog (a promise is the row of the
// entry that created it) and the workers table.
//
// oplog.key packs (workers.id << 40) | oplog index (promise_key in host.hpp), so one worker's
// promises are one key range and the listing comes out ordered by worker row, then oplog index.
#include <string>

#include "error.hpp"
#include "host.hpp"

namespace gp {

namespace {

// Row states (schema.cpp): 0 pending, 1 completed, 2 tombstone (deleted; listed as gone).
constexpr std::int64_t kRowPending = 0;
constexpr std::int64_t kRowCompleted = 1;

}  // namespace

std::vector<Host::PromiseInfo> Host::list_promises(const std::optional<WorkerId>& worker, int state_filter) {
  if (state_filter < 0 || state_filter > 2) {
    throw Error(Errc::invalid, "state filter must be GP_PROMISE_ANY (0), GP_PROMISE_PENDING (1) or "
                               "GP_PROMISE_COMPLETED (2), got " + std::to_string(state_filter));
  }
  std::vector<PromiseInfo> out;
  SyncTicket ticket;
  {
    std::lock_guard lock(db_mu_);
    std::int64_t lo = 0;
    std::int64_t hi = INT64_MAX;
    if (worker) {
      const auto row = worker_row(*worker);
      if (!row) throw Error(Errc::worker_not_found, "no worker " + worker->to_string() + " in this host");
      lo = promise_key(*row, 0);
      hi = promise_key(*row, kMaxIndex);
    }
    // ?3/?4: the row states wanted (equal when filtering on one state).
    const std::int64_t s_lo = state_filter == 2 ? kRowCompleted : kRowPending;
    const std::int64_t s_hi = state_filter == 1 ? kRowPending : kRowCompleted;
    auto q = db_->cached(
        "SELECT w.component_id, w.worker_name, p.key, p.state, coalesce(length(p.payload), 0) "
        "FROM oplog AS p JOIN workers AS w ON w.id = (p.key >> 40) "
        "WHERE p.key BETWEEN ?1 AND ?2 AND p.state BETWEEN ?3 AND ?4 ORDER BY p.key");
    q->bind(1, lo).bind(2, hi).bind(3, s_lo).bind(4, s_hi);
    while (q->step()) {
      PromiseInfo info;
      info.id.worker_id.component_id = Uuid::parse(q->text(0));
      info.id.worker_id.worker_name = q->text(1);
      info.id.oplog_idx = static_cast<std::uint64_t>(q->int64(2)) & kMaxIndex;
      info.completed = q->int64(3) == kRowCompleted;
      info.payload_len = info.completed ? static_cast<std::uint64_t>(q->int64(4)) : 0;
      out.push_back(std::move(info));
    }
    ticket = read_ticket(nullptr);  // states read before their sync are not handed out (host.hpp)
  }
  wait_durable(ticket);
  return out;
}

}  // namespace gp
