// The SQLite schema of a host database: creation, validation and migration.
#pragma once
#include "sqlite.hpp"

namespace gp {

// 'GPR1': marks a database as ours, so a foreign SQLite file is refused untouched.
constexpr int kApplicationId = 0x47505231;
// Bumped with every schema change; each bump adds a step to the migration list in schema.cpp.
constexpr int kSchemaVersion = 2;

// Checks that db is empty or a golem-promise database of a version we understand, creating or
// migrating the schema as needed.  Throws Error(schema) for foreign or newer files, before
// writing anything to them.
void prepare_schema(sql::Db& db);

}  // namespace gp
