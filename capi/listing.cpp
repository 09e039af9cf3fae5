// gp_host_list_promises / gp_promise_list_free: enumerating a host's promises.
#include <cstdlib>
#include <optional>

#include "common.hpp"

using namespace gp::capi;

extern "C" {

GP_API int gp_host_list_promises(gp_promise_list_t* out, gp_host* host, const gp_worker_id_t* worker_id,
                                 int32_t state) {
  return guard([&] {
    require(out, "out");
    *out = gp_promise_list_t{nullptr, 0};
    require(host, "host");
    std::optional<gp::WorkerId> worker;
    if (worker_id) worker = to_core(*worker_id);
    const auto infos = host->impl->list_promises(worker, state);
    if (infos.empty()) return;
    // malloc'd, so gp_promise_list_free is a plain free whatever allocator the caller uses.
    auto* items = static_cast<gp_promise_info_t*>(std::calloc(infos.size(), sizeof(gp_promise_info_t)));
    if (items == nullptr) throw std::bad_alloc();
    for (std::size_t i = 0; i < infos.size(); ++i) {
      items[i].promise_id = to_c(infos[i].id);
      items[i].state = infos[i].completed ? GP_PROMISE_COMPLETED : GP_PROMISE_PENDING;
      items[i].payload_len = infos[i].payload_len;
    }
    out->items = items;
    out->count = infos.size();
  });
}

GP_API void gp_promise_list_free(gp_promise_list_t* list) {
  if (list == nullptr) return;
  std::free(list->items);
  list->items = nullptr;
  list->count = 0;
}

}  // extern "C"
