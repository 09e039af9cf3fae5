// The completion request's body, {"oplogIdx": <u64>, "data": [<u8>, ...]}, read through
// nlohmann/json's SAX interface straight into a byte vector: a large "data" array costs about its
// text in memory, not a JSON tree of one node per byte.  Unknown fields are ignored (as Golem's
// JSON decoding does); a repeated field is an error.  Every rejection names the field.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/printable.hpp"

namespace gp {

// {"oplogIdx": <u64>, "data": [<u8>, ...]}, read through nlohmann's SAX interface.  Unknown
// fields are ignored (as Golem's JSON decoding does); a repeated field is an error.
class CompleteBody final : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::uint64_t> oplog_idx;
  bool has_data = false;
  std::vector<std::uint8_t> data;
  std::string error;  // set when parsing stopped on a problem

  bool null() override { return scalar("null"); }
  bool boolean(bool) override { return scalar("a boolean"); }
  bool number_integer(number_integer_t) override {
    // nlohmann gives number_integer only to numbers written with a '-', -0 included: any of
    // them is a negative number here, as -1 is (Golem's u64 and u8 fields have no -0).
    return scalar("a negative number");
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (in_data()) {
      if (v > 255) return fail(element() + " must be an integer from 0 to 255, got " + std::to_string(v));
      data.push_back(static_cast<std::uint8_t>(v));
      return true;
    }
    if (depth_ == 1 && slot_ == Slot::oplog_idx) {
      oplog_idx = v;
      return true;
    }
    return scalar("a number");
  }
  bool number_float(number_float_t, const string_t& text) override {
    // Fractions, exponents, and integers beyond 2^64-1 all arrive here.
    return scalar("the number " + printable(text));
  }
  bool string(string_t&) override { return scalar("a string"); }
  bool binary(binary_t&) override { return scalar("binary data"); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) return ++depth_, true;
    if (in_data()) return fail(element() + " must be an integer from 0 to 255, got an object");
    if (depth_ == 1 && slot_ != Slot::other) return fail(expectation() + ", got an object");
    return ++depth_, true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return fail(kShape);
    if (in_data()) return fail(element() + " must be an integer from 0 to 255, got an array");
    if (depth_ == 1 && slot_ == Slot::data) {
      has_data = true;
      in_data_ = true;
    } else if (depth_ == 1 && slot_ == Slot::oplog_idx) {
      return fail(expectation() + ", got an array");
    }
    return ++depth_, true;
  }
  bool end_object() override { return --depth_, true; }
  bool end_array() override {
    if (in_data()) in_data_ = false;
    return --depth_, true;
  }
  bool key(string_t& k) override {
    if (depth_ != 1) return true;
    if (k == "oplogIdx") {
      if (oplog_idx) return fail("field 'oplogIdx' appears more than once");
      slot_ = Slot::oplog_idx;
    } else if (k == "data") {
      if (has_data) return fail("field 'data' appears more than once");
      slot_ = Slot::data;
    } else {
      slot_ = Slot::other;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 9: ...".
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return fail("request body is not valid JSON: " + printable(what, 480));  // "last read: <token>"
  }

  // Parses body; false with `error` set when it is not a valid completion request.
  bool parse(const std::string& body) {
    if (!nlohmann::json::sax_parse(body, this)) {
      if (error.empty()) error = "request body is not valid JSON";
      return false;
    }
    if (!oplog_idx) return fail("missing field 'oplogIdx' (an unsigned 64-bit integer)");
    if (!has_data) return fail("missing field 'data' (an array of integers from 0 to 255)");
    return true;
  }

 private:
  enum class Slot { other, oplog_idx, data };
  static constexpr const char* kShape =
      "request body must be a JSON object {\"oplogIdx\": <u64>, \"data\": [<u8>, ...]}";

  bool in_data() const { return in_data_ && depth_ == 2; }
  std::string element() const { return "'data[" + std::to_string(data.size()) + "]'"; }
  std::string expectation() const {
    return slot_ == Slot::oplog_idx ? "field 'oplogIdx' must be an unsigned 64-bit integer (0 to 18446744073709551615)"
                                    : "field 'data' must be an array of integers from 0 to 255";
  }
  bool scalar(const std::string& what) {
    if (depth_ == 0) return fail(kShape);
    if (in_data()) return fail(element() + " must be an integer from 0 to 255, got " + what);
    if (depth_ == 1 && slot_ != Slot::other) return fail(expectation() + ", got " + what);
    return true;  // inside an ignored field
  }
  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }

  int depth_ = 0;
  Slot slot_ = Slot::other;
  bool in_data_ = false;
};


}  // namespace gp
