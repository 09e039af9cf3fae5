// gp_sqlite_disable_memstatus changes SQLite for the whole process, so it is tested in fresh
// child processes: it works before SQLite is initialised and says so clearly afterwards.
#include "harness.hpp"

using namespace gpd;

TEST_CASE("gp_sqlite_disable_memstatus turns SQLite's memory statistics off when called first, and promises work",
          "[process][tuning]") {
  Child c({"memstatus"});
  const auto line = c.line();
  INFO(line);
  const auto words = Child::words(line);
  REQUIRE(words.size() >= 5);
  CHECK(words.at(1) == std::to_string(GP_OK));   // applied
  CHECK(words.at(2) == std::to_string(GP_OK));   // a full promise cycle works afterwards
  CHECK(words.at(3) == "0");                     // sqlite3_memory_used: statistics are off
  CHECK(words.at(4) == std::to_string(GP_EINVAL));  // a second call: SQLite is initialised now
  CHECK(line.find("already initialised") != std::string::npos);
  c.require_clean_exit();
}

TEST_CASE("gp_sqlite_disable_memstatus after SQLite is in use changes nothing and returns GP_EINVAL",
          "[process][tuning]") {
  Child c({"memstatus", "late"});
  const auto line = c.line();
  INFO(line);
  const auto words = Child::words(line);
  REQUIRE(words.size() >= 5);
  CHECK(words.at(1) == std::to_string(GP_EINVAL));
  CHECK(words.at(2) == std::to_string(GP_OK));
  CHECK(words.at(3) != "0");  // statistics still on: SQLite counts its memory
  CHECK(words.at(4) == std::to_string(GP_EINVAL));
  c.require_clean_exit();
}
