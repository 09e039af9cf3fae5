// Listing a host's promises: a read of the store, ordered by worker, then oplog index.
#include <string>

#include "error.hpp"
#include "host.hpp"

namespace gp {

std::vector<Host::PromiseInfo> Host::list_promises(const std::optional<WorkerId>& worker, int state_filter) {
  if (state_filter < 0 || state_filter > 2) {
    throw Error(Errc::invalid, "state filter must be GP_PROMISE_ANY (0), GP_PROMISE_PENDING (1) or "
                               "GP_PROMISE_COMPLETED (2), got " + std::to_string(state_filter));
  }
  std::vector<PromiseInfo> out;
  SyncTicket ticket;
  {
    std::lock_guard lock(store_->mutex());
    std::optional<WorkerRef> row;
    if (worker) {
      row = store_->find_worker(*worker);
      if (!row) throw Error(Errc::worker_not_found, "no worker " + worker->to_string() + " in this host");
    }
    out = store_->list_promises(row, state_filter);
    ticket = store_->read_ticket(nullptr);  // states read before their sync are not handed out
  }
  store_->wait_durable(ticket);
  return out;
}

}  // namespace gp
