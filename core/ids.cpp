#include "ids.hpp"

#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <cctype>
#include <charconv>

#include "error.hpp"
#include "printable.hpp"

namespace gp {

Uuid Uuid::parse(std::string_view text) {
  // Boost also takes braces and undashed forms; Golem's text form is exactly the dashed one.
  // Hex digits may be upper case (RFC 4122: case-insensitive on input); to_string is lower case.
  if (text.size() != 36) {
    throw Error(Errc::invalid, "invalid UUID " + quoted(text) + ": expected 36 characters (8-4-4-4-12 hex digits), got " +
                                   std::to_string(text.size()));
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = text[i];
    if (dash_pos ? c != '-' : std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      throw Error(Errc::invalid, "invalid UUID " + quoted(text) + ": character " + std::to_string(i + 1) + " (" +
                                     quoted(text.substr(i, 1)) + ") should be " +
                                     (dash_pos ? "'-' (8-4-4-4-12 hex digits)" : "a hex digit"));
    }
  }
  boost::uuids::uuid u;
  try {
    u = boost::uuids::string_generator()(text.begin(), text.end());
  } catch (const std::exception&) {
    throw Error(Errc::invalid, "invalid UUID " + quoted(text));
  }
  Uuid out;
  for (int i = 0; i < 8; ++i) out.high_bits = (out.high_bits << 8) | u.data[i];
  for (int i = 8; i < 16; ++i) out.low_bits = (out.low_bits << 8) | u.data[i];
  return out;
}

std::string Uuid::to_string() const {
  boost::uuids::uuid u{};
  for (int i = 0; i < 8; ++i) u.data[i] = static_cast<std::uint8_t>(high_bits >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) u.data[8 + i] = static_cast<std::uint8_t>(low_bits >> (56 - 8 * i));
  return boost::uuids::to_string(u);
}

void validate_worker_name(std::string_view name) {
  static const char* kRule =
      "worker names are 1 to 100 characters of A-Z a-z 0-9 _ -, not starting with '-'";
  bool ok = !name.empty() && name.size() <= 100 && name.front() != '-';
  for (std::size_t i = 0; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
  }
  if (!ok) throw Error(Errc::invalid, "invalid worker name " + quoted(name) + ": " + kRule);
}

WorkerId WorkerId::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    throw Error(Errc::invalid,
                "invalid worker id " + quoted(text) + ": expected '<component-uuid>/<worker-name>'");
  }
  WorkerId out;
  out.component_id = Uuid::parse(text.substr(0, slash));
  const auto name = text.substr(slash + 1);
  validate_worker_name(name);
  out.worker_name = std::string(name);
  return out;
}

std::string WorkerId::to_string() const { return component_id.to_string() + "/" + worker_name; }

PromiseId PromiseId::parse(std::string_view text) {
  const auto slash = text.rfind('/');
  if (slash == std::string_view::npos) {
    throw Error(Errc::invalid, "invalid promise id " + quoted(text) +
                                   ": expected '<component-uuid>/<worker-name>/<oplog-index>'");
  }
  const auto idx_text = text.substr(slash + 1);
  std::uint64_t idx = 0;
  const auto* first = idx_text.data();
  const auto* last = first + idx_text.size();
  const auto res = std::from_chars(first, last, idx);
  if (idx_text.empty() || res.ec != std::errc() || res.ptr != last) {
    throw Error(Errc::invalid, "invalid promise id " + quoted(text) + ": oplog index " +
                                   quoted(idx_text) + " is not an unsigned 64-bit integer");
  }
  // One text per index, so that an id's text can be a key: no leading zeros ("7", not "007").
  if (idx_text.size() > 1 && idx_text.front() == '0') {
    throw Error(Errc::invalid, "invalid promise id " + quoted(text) + ": oplog index " + quoted(idx_text) +
                                   " has a leading zero (its text is " + quoted(std::to_string(idx)) + ")");
  }
  PromiseId out;
  out.worker_id = WorkerId::parse(text.substr(0, slash));
  out.oplog_idx = idx;
  return out;
}

std::string PromiseId::to_string() const {
  return worker_id.to_string() + "/" + std::to_string(oplog_idx);
}

}  // namespace gp
