// Fuzz target: the completion body parser (server/http_body.hpp), differentially against
// nlohmann/json's DOM parser.  Invariant: the SAX parser accepts exactly the bodies that are a
// JSON object with an unsigned 64-bit "oplogIdx" and a "data" array of integers 0..255, each
// field once, and then gives the same values; every rejection has a message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/http_body.hpp"

namespace {

void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_body: invariant broken: %s (%s)\n", what, detail.c_str());
  std::abort();
}

// What the DOM says the body should parse to; nullopt if it should be refused.  Duplicate keys
// are refused by the SAX parser; the DOM keeps the last, so they are detected separately.
struct Expected {
  std::uint64_t idx = 0;
  std::vector<std::uint8_t> data;
};

bool is_unsigned_integer(const nlohmann::json& v) { return v.is_number_unsigned(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(bytes), size);
  gp::CompleteBody sax;
  const bool ok = sax.parse(body);
  if (!ok && sax.error.empty()) broken("a refusal has a message", body);

  nlohmann::json dom = nlohmann::json::parse(body, nullptr, false);
  std::optional<Expected> want;
  if (!dom.is_discarded() && dom.is_object() && dom.contains("oplogIdx") && dom.contains("data") &&
      is_unsigned_integer(dom["oplogIdx"]) && dom["data"].is_array()) {
    Expected e;
    e.idx = dom["oplogIdx"].get<std::uint64_t>();
    bool bytes_ok = true;
    for (const auto& v : dom["data"]) {
      if (!is_unsigned_integer(v) || v.get<std::uint64_t>() > 255) {
        bytes_ok = false;
        break;
      }
      e.data.push_back(static_cast<std::uint8_t>(v.get<std::uint64_t>()));
    }
    if (bytes_ok) want = std::move(e);
  }
  if (ok) {
    if (!want) broken("the SAX parser accepts only what the DOM reads as a completion", body);
    if (*sax.oplog_idx != want->idx || sax.data != want->data) broken("both parsers read the same values", body);
  } else if (want) {
    // The one refusal the DOM cannot see: a top-level field given twice.
    if (sax.error.find("appears more than once") == std::string::npos) broken("a valid completion is accepted", sax.error);
  }
  return 0;
}
