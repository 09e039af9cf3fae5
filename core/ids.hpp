// Golem's identifiers (DESIGN §1): Uuid, WorkerId, PromiseId, their text forms and the worker
// name rule.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace gp {

struct Uuid {
  std::uint64_t high_bits = 0;  // most significant 64 bits (big-endian)
  std::uint64_t low_bits = 0;

  static Uuid parse(std::string_view text);  // any case; throws Error(invalid)
  std::string to_string() const;             // lower case, 36 characters
  friend bool operator==(const Uuid& a, const Uuid& b) {
    return a.high_bits == b.high_bits && a.low_bits == b.low_bits;
  }
  friend bool operator<(const Uuid& a, const Uuid& b) {
    return std::tie(a.high_bits, a.low_bits) < std::tie(b.high_bits, b.low_bits);
  }
};

// Throws Error(invalid) with the rule in the message unless name is one Golem's REST API accepts.
void validate_worker_name(std::string_view name);

struct WorkerId {
  Uuid component_id;
  std::string worker_name;

  static WorkerId parse(std::string_view text);  // "uuid/name"
  std::string to_string() const;
  friend bool operator==(const WorkerId& a, const WorkerId& b) {
    return a.component_id == b.component_id && a.worker_name == b.worker_name;
  }
  friend bool operator<(const WorkerId& a, const WorkerId& b) {
    return std::tie(a.component_id, a.worker_name) < std::tie(b.component_id, b.worker_name);
  }
};

struct PromiseId {
  WorkerId worker_id;
  std::uint64_t oplog_idx = 0;

  static PromiseId parse(std::string_view text);  // "uuid/name/idx", split at the last '/'
  std::string to_string() const;
  friend bool operator==(const PromiseId& a, const PromiseId& b) {
    return a.worker_id == b.worker_id && a.oplog_idx == b.oplog_idx;
  }
};

}  // namespace gp
