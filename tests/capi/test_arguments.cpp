// Every public entry point answers NULL and malformed arguments with GP_EINVAL and a message,
// never a crash.  The tables are checked against the installed header's declarations, so a new
// function that takes a pointer or an id cannot be added without an entry here.
#include "support.hpp"

#include <catch2/generators/catch_generators.hpp>

#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace gpt;

namespace {

using Call = std::pair<std::string, std::function<int()>>;

struct Declaration {
  std::string name;
  std::string params;
};

// The GP_API functions of the public header that return a status (int), with their parameters.
std::vector<Declaration> status_functions() {
  std::ifstream in(GP_PUBLIC_HEADER);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const std::regex decl(R"(GP_API\s+int\s+(gp_[a-z0-9_]+)\s*\(([^)]*)\))");
  std::vector<Declaration> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), decl); it != std::sregex_iterator(); ++it) {
    out.push_back({(*it)[1].str(), (*it)[2].str()});
  }
  REQUIRE(out.size() >= 40);
  return out;
}

std::set<std::string> called_functions(const std::vector<Call>& calls) {
  std::set<std::string> names;
  for (const auto& c : calls) names.insert(c.first.substr(0, c.first.find(' ')));
  return names;
}

// Runs each call and requires GP_EINVAL with a fresh, non-empty last-error message.
void require_einval(const std::vector<Call>& calls) {
  for (const auto& [name, call] : calls) {
    // Leave a known, different message first, so a stale one cannot make this call look right.
    gp_promise_id_t scratch{};
    REQUIRE(gp_promise_id_parse(&scratch, "stale") == GP_EINVAL);
    const std::string before = gp_last_error_message();
    CAPTURE(name);
    const int rc = call();
    CHECK(rc == GP_EINVAL);
    CHECK(gp_last_error_code() == GP_EINVAL);
    const char* msg = gp_last_error_message();
    REQUIRE(msg != nullptr);
    CHECK(std::strlen(msg) > 0);
    CHECK(std::string(msg) != before);
  }
}

}  // namespace

TEST_CASE("NULL pointer arguments give GP_EINVAL with a message, for every public function", "[errors][args]") {
  Host host;
  Worker worker(host, "nulls");
  gp_promise_id_t pid = worker.create();
  gp_worker_id_t wid = worker.id;
  gp_uuid_t uuid = component_uuid();
  char buf[GP_PROMISE_ID_TEXT_SIZE];
  const std::string pid_text = format(pid);
  const std::string wid_text = std::string(kComponent) + "/nulls";
  const std::uint8_t data[3] = {1, 2, 3};
  int flag = 0;
  int32_t state = 0;
  gp_bytes_t bytes{nullptr, 0};
  std::uint64_t n = 0;
  std::uint16_t port = 0;
  gp_oplog_entry_t entry{};
  gp_promise_list_t list{nullptr, 0};
  gp_worker_id_t wid_out{};
  gp_promise_id_t pid_out{};
  gp_uuid_t uuid_out{};
  std::size_t size = 0;
  gp_host* host_out = nullptr;
  gp_worker* worker_out = nullptr;
  gp_promise* promise_out = nullptr;
  gp_server* server_out = nullptr;
  gp_host* h = host.h;
  gp_worker* w = worker.w;

  gp_promise* handle = nullptr;
  REQUIRE(gp_host_get_promise(&handle, h, &pid) == GP_OK);
  gp_promise* handles[2] = {handle, nullptr};
  gp_server_options_t sopts{};
  sopts.version = GP_SERVER_OPTIONS_VERSION;
  gp_server* server = nullptr;
  REQUIRE(gp_server_start(&server, h, &sopts) == GP_OK);

  const std::vector<Call> calls = {
      {"gp_uuid_parse out", [&] { return gp_uuid_parse(nullptr, kComponent); }},
      {"gp_uuid_parse text", [&] { return gp_uuid_parse(&uuid_out, nullptr); }},
      {"gp_uuid_format out", [&] { return gp_uuid_format(nullptr, sizeof buf, &uuid); }},
      {"gp_uuid_format uuid", [&] { return gp_uuid_format(buf, sizeof buf, nullptr); }},
      {"gp_worker_name_validate name", [&] { return gp_worker_name_validate(nullptr); }},
      {"gp_worker_id_make out", [&] { return gp_worker_id_make(nullptr, &uuid, "w"); }},
      {"gp_worker_id_make component_id", [&] { return gp_worker_id_make(&wid_out, nullptr, "w"); }},
      {"gp_worker_id_make worker_name", [&] { return gp_worker_id_make(&wid_out, &uuid, nullptr); }},
      {"gp_worker_id_parse out", [&] { return gp_worker_id_parse(nullptr, wid_text.c_str()); }},
      {"gp_worker_id_parse text", [&] { return gp_worker_id_parse(&wid_out, nullptr); }},
      {"gp_worker_id_format out", [&] { return gp_worker_id_format(nullptr, sizeof buf, &wid); }},
      {"gp_worker_id_format worker_id", [&] { return gp_worker_id_format(buf, sizeof buf, nullptr); }},
      {"gp_promise_id_parse out", [&] { return gp_promise_id_parse(nullptr, pid_text.c_str()); }},
      {"gp_promise_id_parse text", [&] { return gp_promise_id_parse(&pid_out, nullptr); }},
      {"gp_promise_id_format out", [&] { return gp_promise_id_format(nullptr, sizeof buf, &pid); }},
      {"gp_promise_id_format promise_id", [&] { return gp_promise_id_format(buf, sizeof buf, nullptr); }},
      {"gp_host_open out", [&] { return gp_host_open(nullptr, ":memory:", nullptr); }},
      {"gp_host_open path", [&] { return gp_host_open(&host_out, nullptr, nullptr); }},
      {"gp_host_complete_promise out", [&] { return gp_host_complete_promise(nullptr, h, &pid, data, 3); }},
      {"gp_host_complete_promise host", [&] { return gp_host_complete_promise(&flag, nullptr, &pid, data, 3); }},
      {"gp_host_complete_promise promise_id", [&] { return gp_host_complete_promise(&flag, h, nullptr, data, 3); }},
      {"gp_host_complete_promise data with len", [&] { return gp_host_complete_promise(&flag, h, &pid, nullptr, 3); }},
      {"gp_host_poll_promise out", [&] { return gp_host_poll_promise(nullptr, &flag, h, &pid); }},
      {"gp_host_poll_promise out_ready", [&] { return gp_host_poll_promise(&bytes, nullptr, h, &pid); }},
      {"gp_host_poll_promise host", [&] { return gp_host_poll_promise(&bytes, &flag, nullptr, &pid); }},
      {"gp_host_poll_promise promise_id", [&] { return gp_host_poll_promise(&bytes, &flag, h, nullptr); }},
      {"gp_host_read_payload out_len", [&] { return gp_host_read_payload(nullptr, &flag, h, &pid, nullptr, 0); }},
      {"gp_host_read_payload out_ready", [&] { return gp_host_read_payload(&size, nullptr, h, &pid, nullptr, 0); }},
      {"gp_host_read_payload host", [&] { return gp_host_read_payload(&size, &flag, nullptr, &pid, nullptr, 0); }},
      {"gp_host_read_payload promise_id", [&] { return gp_host_read_payload(&size, &flag, h, nullptr, nullptr, 0); }},
      {"gp_host_read_payload buf with cap", [&] { return gp_host_read_payload(&size, &flag, h, &pid, nullptr, 3); }},
      {"gp_host_options_init opts", [&] { return gp_host_options_init(nullptr, GP_HOST_OPTIONS_VERSION); }},
      {"gp_server_options_init opts", [&] { return gp_server_options_init(nullptr, GP_SERVER_OPTIONS_VERSION); }},
      {"gp_host_await_promise out", [&] { return gp_host_await_promise(nullptr, h, &pid, 0); }},
      {"gp_host_await_promise host", [&] { return gp_host_await_promise(&bytes, nullptr, &pid, 0); }},
      {"gp_host_await_promise promise_id", [&] { return gp_host_await_promise(&bytes, h, nullptr, 0); }},
      {"gp_host_delete_promise host", [&] { return gp_host_delete_promise(nullptr, &pid); }},
      {"gp_host_delete_promise promise_id", [&] { return gp_host_delete_promise(h, nullptr); }},
      {"gp_host_change_fd out", [&] { return gp_host_change_fd(nullptr, h); }},
      {"gp_host_change_fd host", [&] { return gp_host_change_fd(&flag, nullptr); }},
      {"gp_host_change_ack host", [&] { return gp_host_change_ack(nullptr); }},
      {"gp_host_change_counter out", [&] { return gp_host_change_counter(nullptr, h); }},
      {"gp_host_change_counter host", [&] { return gp_host_change_counter(&n, nullptr); }},
      {"gp_host_get_promise out", [&] { return gp_host_get_promise(nullptr, h, &pid); }},
      {"gp_host_get_promise host", [&] { return gp_host_get_promise(&promise_out, nullptr, &pid); }},
      {"gp_host_get_promise promise_id", [&] { return gp_host_get_promise(&promise_out, h, nullptr); }},
      {"gp_promise_get_id out", [&] { return gp_promise_get_id(nullptr, handle); }},
      {"gp_promise_get_id promise", [&] { return gp_promise_get_id(&pid_out, nullptr); }},
      {"gp_promise_get out", [&] { return gp_promise_get(nullptr, &flag, handle); }},
      {"gp_promise_get out_ready", [&] { return gp_promise_get(&bytes, nullptr, handle); }},
      {"gp_promise_get promise", [&] { return gp_promise_get(&bytes, &flag, nullptr); }},
      {"gp_promise_state out", [&] { return gp_promise_state(nullptr, handle); }},
      {"gp_promise_state promise", [&] { return gp_promise_state(&state, nullptr); }},
      {"gp_promise_ready out", [&] { return gp_promise_ready(nullptr, handle); }},
      {"gp_promise_ready promise", [&] { return gp_promise_ready(&flag, nullptr); }},
      {"gp_promise_block promise", [&] { return gp_promise_block(nullptr, 0); }},
      {"gp_promise_poll_many out_states", [&] { return gp_promise_poll_many(nullptr, nullptr, handles, 1); }},
      {"gp_promise_poll_many promises", [&] { return gp_promise_poll_many(&state, nullptr, nullptr, 1); }},
      {"gp_promise_poll_many a NULL handle", [&] {
         int32_t states[2] = {0, 0};
         return gp_promise_poll_many(states, nullptr, handles, 2);
       }},
      {"gp_worker_open out", [&] { return gp_worker_open(nullptr, h, &wid); }},
      {"gp_worker_open host", [&] { return gp_worker_open(&worker_out, nullptr, &wid); }},
      {"gp_worker_open worker_id", [&] { return gp_worker_open(&worker_out, h, nullptr); }},
      {"gp_worker_open_v2 out", [&] { return gp_worker_open_v2(nullptr, h, &wid, 0); }},
      {"gp_worker_open_v2 host", [&] { return gp_worker_open_v2(&worker_out, nullptr, &wid, 0); }},
      {"gp_worker_open_v2 worker_id", [&] { return gp_worker_open_v2(&worker_out, h, nullptr, 0); }},
      {"gp_worker_get_id out", [&] { return gp_worker_get_id(nullptr, w); }},
      {"gp_worker_get_id worker", [&] { return gp_worker_get_id(&wid_out, nullptr); }},
      {"gp_worker_create_promise out", [&] { return gp_worker_create_promise(nullptr, w); }},
      {"gp_worker_create_promise worker", [&] { return gp_worker_create_promise(&pid_out, nullptr); }},
      {"gp_worker_complete_promise out", [&] { return gp_worker_complete_promise(nullptr, w, &pid, data, 3); }},
      {"gp_worker_complete_promise worker", [&] { return gp_worker_complete_promise(&flag, nullptr, &pid, data, 3); }},
      {"gp_worker_complete_promise promise_id", [&] { return gp_worker_complete_promise(&flag, w, nullptr, data, 3); }},
      {"gp_worker_complete_promise data with len", [&] { return gp_worker_complete_promise(&flag, w, &pid, nullptr, 3); }},
      {"gp_worker_poll_promise out", [&] { return gp_worker_poll_promise(nullptr, &flag, w, &pid); }},
      {"gp_worker_poll_promise out_ready", [&] { return gp_worker_poll_promise(&bytes, nullptr, w, &pid); }},
      {"gp_worker_poll_promise worker", [&] { return gp_worker_poll_promise(&bytes, &flag, nullptr, &pid); }},
      {"gp_worker_poll_promise promise_id", [&] { return gp_worker_poll_promise(&bytes, &flag, w, nullptr); }},
      {"gp_worker_await_promise out", [&] { return gp_worker_await_promise(nullptr, w, &pid, 0); }},
      {"gp_worker_await_promise worker", [&] { return gp_worker_await_promise(&bytes, nullptr, &pid, 0); }},
      {"gp_worker_await_promise promise_id", [&] { return gp_worker_await_promise(&bytes, w, nullptr, 0); }},
      {"gp_worker_delete_promise worker", [&] { return gp_worker_delete_promise(nullptr, &pid); }},
      {"gp_worker_delete_promise promise_id", [&] { return gp_worker_delete_promise(w, nullptr); }},
      {"gp_worker_get_oplog_index out", [&] { return gp_worker_get_oplog_index(nullptr, w); }},
      {"gp_worker_get_oplog_index worker", [&] { return gp_worker_get_oplog_index(&n, nullptr); }},
      {"gp_worker_replay_call out", [&] { return gp_worker_replay_call(nullptr, &flag, &n, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", data, 3); }},
      {"gp_worker_replay_call replayed", [&] { return gp_worker_replay_call(&bytes, nullptr, &n, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", data, 3); }},
      {"gp_worker_replay_call oplog_idx", [&] { return gp_worker_replay_call(&bytes, &flag, nullptr, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", data, 3); }},
      {"gp_worker_replay_call worker", [&] { return gp_worker_replay_call(&bytes, &flag, &n, nullptr, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", data, 3); }},
      {"gp_worker_replay_call function", [&] { return gp_worker_replay_call(&bytes, &flag, &n, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, nullptr, data, 3); }},
      {"gp_worker_replay_call data with len", [&] { return gp_worker_replay_call(&bytes, &flag, &n, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 3); }},
      {"gp_worker_record_call out", [&] { return gp_worker_record_call(nullptr, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", data, 3); }},
      {"gp_worker_record_call worker", [&] { return gp_worker_record_call(&n, nullptr, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", data, 3); }},
      {"gp_worker_record_call function", [&] { return gp_worker_record_call(&n, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, nullptr, data, 3); }},
      {"gp_worker_record_call data with len", [&] { return gp_worker_record_call(&n, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 3); }},
      {"gp_worker_restart worker", [&] { return gp_worker_restart(nullptr); }},
      {"gp_worker_is_replaying out", [&] { return gp_worker_is_replaying(nullptr, w); }},
      {"gp_worker_is_replaying worker", [&] { return gp_worker_is_replaying(&flag, nullptr); }},
      {"gp_worker_oplog_position out", [&] { return gp_worker_oplog_position(nullptr, w); }},
      {"gp_worker_oplog_position worker", [&] { return gp_worker_oplog_position(&n, nullptr); }},
      {"gp_host_oplog_length out", [&] { return gp_host_oplog_length(nullptr, h, &wid); }},
      {"gp_host_oplog_length host", [&] { return gp_host_oplog_length(&n, nullptr, &wid); }},
      {"gp_host_oplog_length worker_id", [&] { return gp_host_oplog_length(&n, h, nullptr); }},
      {"gp_host_oplog_read out", [&] { return gp_host_oplog_read(nullptr, h, &wid, 1); }},
      {"gp_host_oplog_read host", [&] { return gp_host_oplog_read(&entry, nullptr, &wid, 1); }},
      {"gp_host_oplog_read worker_id", [&] { return gp_host_oplog_read(&entry, h, nullptr, 1); }},
      {"gp_host_oplog_read_call function", [&] { return gp_host_oplog_read_call(nullptr, &bytes, h, &wid, 1); }},
      {"gp_host_oplog_read_call data", [&] { return gp_host_oplog_read_call(&bytes, nullptr, h, &wid, 1); }},
      {"gp_host_oplog_read_call host", [&] { return gp_host_oplog_read_call(&bytes, &bytes, nullptr, &wid, 1); }},
      {"gp_host_oplog_read_call worker_id", [&] { return gp_host_oplog_read_call(&bytes, &bytes, h, nullptr, 1); }},
      {"gp_host_list_promises out", [&] { return gp_host_list_promises(nullptr, h, &wid, GP_PROMISE_ANY); }},
      {"gp_host_list_promises host", [&] { return gp_host_list_promises(&list, nullptr, &wid, GP_PROMISE_ANY); }},
      {"gp_server_start out", [&] { return gp_server_start(nullptr, h, &sopts); }},
      {"gp_server_start host", [&] { return gp_server_start(&server_out, nullptr, &sopts); }},
      {"gp_server_port out", [&] { return gp_server_port(nullptr, server); }},
      {"gp_server_port server", [&] { return gp_server_port(&port, nullptr); }},
      {"gp_server_url out", [&] { return gp_server_url(nullptr, GP_SERVER_URL_SIZE, server); }},
      {"gp_server_url server", [&] { return gp_server_url(buf, sizeof buf, nullptr); }},
  };

  require_einval(calls);
  CHECK(host_out == nullptr);
  CHECK(worker_out == nullptr);
  CHECK(promise_out == nullptr);
  CHECK(server_out == nullptr);
  CHECK(list.items == nullptr);

  // Every status-returning function of the header that takes a pointer is in the table above.
  const auto covered = called_functions(calls);
  for (const auto& d : status_functions()) {
    if (d.params.find('*') == std::string::npos) continue;
    CAPTURE(d.name, d.params);
    CHECK(covered.count(d.name) == 1);
  }

  // The objects used above still work: the rejected calls changed nothing.
  int ready = -1;
  CHECK(gp_promise_ready(&ready, handle) == GP_OK);
  CHECK(ready == 0);
  CHECK(oplog_length(h, wid) == 2);
  gp_promise_close(&handle);
  gp_server_stop(&server);
}

TEST_CASE("malformed worker and promise ids give GP_EINVAL, for every function that takes one", "[errors][args]") {
  Host host;
  Worker worker(host, "malformed");
  gp_host* h = host.h;
  gp_worker* w = worker.w;
  const gp_promise_id_t good = worker.create();

  enum class Bad { no_terminator, empty, breaks_rule, not_ascii };
  const Bad how = GENERATE(Bad::no_terminator, Bad::empty, Bad::breaks_rule, Bad::not_ascii);
  gp_promise_id_t pid = good;
  char* name = pid.worker_id.worker_name;
  switch (how) {
    case Bad::no_terminator: std::memset(name, 'a', sizeof pid.worker_id.worker_name); break;
    case Bad::empty: std::memset(name, 0, sizeof pid.worker_id.worker_name); break;
    case Bad::breaks_rule: std::strcpy(name, "has/slash"); break;
    case Bad::not_ascii: std::strcpy(name, "caf\xc3\xa9"); break;
  }
  CAPTURE(static_cast<int>(how));
  gp_worker_id_t wid = pid.worker_id;

  char buf[GP_PROMISE_ID_TEXT_SIZE];
  int flag = 0;
  std::size_t size = 0;
  gp_bytes_t bytes{nullptr, 0};
  std::uint64_t n = 0;
  gp_oplog_entry_t entry{};
  gp_promise_list_t list{nullptr, 0};
  gp_worker* worker_out = nullptr;
  gp_promise* promise_out = nullptr;

  const std::vector<Call> calls = {
      {"gp_worker_id_format", [&] { return gp_worker_id_format(buf, sizeof buf, &wid); }},
      {"gp_promise_id_format", [&] { return gp_promise_id_format(buf, sizeof buf, &pid); }},
      {"gp_host_complete_promise", [&] { return gp_host_complete_promise(&flag, h, &pid, nullptr, 0); }},
      {"gp_host_poll_promise", [&] { return gp_host_poll_promise(&bytes, &flag, h, &pid); }},
      {"gp_host_read_payload", [&] { return gp_host_read_payload(&size, &flag, h, &pid, nullptr, 0); }},
      {"gp_host_await_promise", [&] { return gp_host_await_promise(&bytes, h, &pid, 0); }},
      {"gp_host_delete_promise", [&] { return gp_host_delete_promise(h, &pid); }},
      {"gp_host_get_promise", [&] { return gp_host_get_promise(&promise_out, h, &pid); }},
      {"gp_worker_open", [&] { return gp_worker_open(&worker_out, h, &wid); }},
      {"gp_worker_open_v2", [&] { return gp_worker_open_v2(&worker_out, h, &wid, 0); }},
      {"gp_worker_complete_promise", [&] { return gp_worker_complete_promise(&flag, w, &pid, nullptr, 0); }},
      {"gp_worker_poll_promise", [&] { return gp_worker_poll_promise(&bytes, &flag, w, &pid); }},
      {"gp_worker_await_promise", [&] { return gp_worker_await_promise(&bytes, w, &pid, 0); }},
      {"gp_worker_delete_promise", [&] { return gp_worker_delete_promise(w, &pid); }},
      {"gp_host_oplog_length", [&] { return gp_host_oplog_length(&n, h, &wid); }},
      {"gp_host_oplog_read", [&] { return gp_host_oplog_read(&entry, h, &wid, 1); }},
      {"gp_host_oplog_read_call", [&] { return gp_host_oplog_read_call(&bytes, &bytes, h, &wid, 1); }},
      {"gp_host_list_promises", [&] { return gp_host_list_promises(&list, h, &wid, GP_PROMISE_ANY); }},
  };
  require_einval(calls);
  CHECK(worker_out == nullptr);
  CHECK(promise_out == nullptr);
  CHECK(list.items == nullptr);

  // Every function that reads a worker or promise id from the caller is in the table above.
  const auto covered = called_functions(calls);
  const std::regex id_in(R"(const\s+gp_(worker|promise)_id_t\s*\*)");
  for (const auto& d : status_functions()) {
    if (!std::regex_search(d.params, id_in)) continue;
    CAPTURE(d.name, d.params);
    CHECK(covered.count(d.name) == 1);
  }

  // Nothing was written: the worker's oplog holds its creation entry and the one create.
  CHECK(oplog_length(h, worker.id) == 2);
  int ready = -1;
  Bytes b;
  CHECK(gp_host_poll_promise(b.out(), &ready, h, &good) == GP_OK);
  CHECK(ready == 0);
}

TEST_CASE("host options with out-of-range fields give GP_EINVAL and create no file", "[errors][args]") {
  TempDir dir;
  const std::string path = dir.file("never.db");
  gp_host_options_t o{};
  o.version = GP_HOST_OPTIONS_VERSION;
  SECTION("synchronous neither FULL nor NORMAL") { o.synchronous = 7; }
  SECTION("negative synchronous") { o.synchronous = -1; }
  SECTION("negative busy timeout") { o.busy_timeout_ms = -5; }
  SECTION("negative fallback poll") { o.fallback_poll_us = -1; }
  gp_host* h = nullptr;
  CHECK(gp_host_open(&h, path.c_str(), &o) == GP_EINVAL);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  CHECK(h == nullptr);
  CHECK(dir.entries().empty());
  gp_host_close(&h);
}
