// gp_host_list_promises / gp_promise_list_free: a read-only listing of a host's promises.
#include "support.hpp"

#include <string>
#include <vector>

using namespace gpt;

namespace {

// A list owned by the test; frees itself.
struct List {
  gp_promise_list_t l{nullptr, 0};
  List() = default;
  List(const List&) = delete;
  List& operator=(const List&) = delete;
  ~List() { gp_promise_list_free(&l); }
};

std::vector<std::string> listed(gp_host* h, const gp_worker_id_t* worker, int32_t state) {
  List list;
  int rc = gp_host_list_promises(&list.l, h, worker, state);
  INFO(gp_last_error_message());
  REQUIRE(rc == GP_OK);
  std::vector<std::string> out;
  for (size_t i = 0; i < list.l.count; ++i) {
    const auto& p = list.l.items[i];
    out.push_back(format(p.promise_id) + (p.state == GP_PROMISE_PENDING ? " pending" : " completed") + " " +
                  std::to_string(p.payload_len));
  }
  return out;
}

}  // namespace

TEST_CASE("an empty host lists no promises and allocates nothing", "[listing]") {
  Host h;
  gp_promise_list_t list{reinterpret_cast<gp_promise_info_t*>(1), 7};
  REQUIRE(gp_host_list_promises(&list, h, nullptr, GP_PROMISE_ANY) == GP_OK);
  CHECK(list.items == nullptr);
  CHECK(list.count == 0);
  gp_promise_list_free(&list);
}

TEST_CASE("promises are listed by worker then oplog index, with state and payload length", "[listing]") {
  Host h;
  Worker a(h, "alice");
  Worker b(h, "bob");
  const auto a1 = a.create();
  const auto b1 = b.create();
  const auto a2 = a.create();
  const auto a3 = a.create();
  int done = 0;
  REQUIRE(gp_host_complete_promise(&done, h, &a2, u8("four"), 4) == GP_OK);
  REQUIRE(gp_host_complete_promise(&done, h, &b1, nullptr, 0) == GP_OK);
  REQUIRE(gp_host_delete_promise(h, &a3) == GP_OK);

  const std::vector<std::string> all{format(a1) + " pending 0", format(a2) + " completed 4",
                                     format(b1) + " completed 0"};
  CHECK(listed(h, nullptr, GP_PROMISE_ANY) == all);
  CHECK(listed(h, nullptr, GP_PROMISE_PENDING) == std::vector<std::string>{all[0]});
  CHECK(listed(h, nullptr, GP_PROMISE_COMPLETED) == std::vector<std::string>{all[1], all[2]});
  CHECK(listed(h, &a.id, GP_PROMISE_ANY) == std::vector<std::string>{all[0], all[1]});
  CHECK(listed(h, &b.id, GP_PROMISE_PENDING).empty());
}

TEST_CASE("a deleted promise that a worker observed (a replay tombstone) is not listed", "[listing]") {
  Host h;
  Worker a(h, "alice");
  const auto p = a.create();
  int done = 0;
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("x"), 1) == GP_OK);
  Bytes out;
  int ready = 0;
  REQUIRE(gp_worker_poll_promise(out.out(), &ready, a, &p) == GP_OK);  // pins the payload
  REQUIRE(gp_worker_delete_promise(a, &p) == GP_OK);
  CHECK(listed(h, nullptr, GP_PROMISE_ANY).empty());
}

TEST_CASE("listing writes nothing to any oplog", "[listing]") {
  Host h;
  Worker a(h, "alice");
  a.create();
  const auto before = oplog_length(h, a.id);
  listed(h, nullptr, GP_PROMISE_ANY);
  listed(h, &a.id, GP_PROMISE_PENDING);
  CHECK(oplog_length(h, a.id) == before);
}

TEST_CASE("listing errors: unknown worker, bad state, NULL arguments", "[listing][errors]") {
  Host h;
  Worker a(h, "alice");
  a.create();
  List list;
  const auto nobody = worker_id("nobody");
  CHECK(gp_host_list_promises(&list.l, h, &nobody, GP_PROMISE_ANY) == GP_EWORKERNOTFOUND);
  CHECK(std::string(gp_last_error_message()).find("nobody") != std::string::npos);
  CHECK(list.l.items == nullptr);
  CHECK(gp_host_list_promises(&list.l, h, nullptr, 3) == GP_EINVAL);
  CHECK(gp_host_list_promises(&list.l, h, nullptr, -1) == GP_EINVAL);
  CHECK(gp_host_list_promises(nullptr, h, nullptr, GP_PROMISE_ANY) == GP_EINVAL);
  CHECK(gp_host_list_promises(&list.l, nullptr, nullptr, GP_PROMISE_ANY) == GP_EINVAL);
  gp_promise_list_free(nullptr);
}

TEST_CASE("a file host lists what another connection wrote", "[listing][file]") {
  TempDir dir;
  const auto path = (dir.path / "list.db").string();
  Host writer(path);
  Worker w(writer, "alice");
  const auto p = w.create();
  Host reader(path);
  CHECK(listed(reader, nullptr, GP_PROMISE_ANY) == std::vector<std::string>{format(p) + " pending 0"});
}
