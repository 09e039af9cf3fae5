// Shared plumbing of the C layer: handle structs, argument checks, and the one place where C++
// exceptions become status codes plus a thread-local message.
#pragma once
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "core/error.hpp"
#include "golem_promise.h"
#include "core/host.hpp"
#include "core/ids.hpp"

struct gp_host {
  std::shared_ptr<gp::Host> impl;
};

struct gp_worker {
  std::unique_ptr<gp::Worker> impl;
};

namespace gp::capi {

int set_error(int code, const char* message) noexcept;

// Runs f, turning every exception into a status.  Nothing throws across the C boundary.
template <class F>
int guard(F&& f) noexcept {
  try {
    f();
    return GP_OK;
  } catch (const gp::Error& e) {
    return set_error(static_cast<int>(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(GP_ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    return set_error(GP_EINTERNAL, e.what());
  } catch (...) {
    return set_error(GP_EINTERNAL, "unknown C++ exception");
  }
}

// Throws Error(invalid) naming the argument when p is NULL.
template <class T>
T* require(T* p, const char* name) {
  if (p == nullptr) throw gp::Error(gp::Errc::invalid, std::string("argument '") + name + "' is NULL");
  return p;
}

gp::Uuid to_core(const gp_uuid_t& u);
gp::WorkerId to_core(const gp_worker_id_t& w);
gp::PromiseId to_core(const gp_promise_id_t& p);
gp_uuid_t to_c(const gp::Uuid& u);
gp_worker_id_t to_c(const gp::WorkerId& w);
gp_promise_id_t to_c(const gp::PromiseId& p);

// Copies text and its NUL into out[out_size], or throws Error(invalid) if it does not fit.
void write_text(char* out, std::size_t out_size, const std::string& text);

// Hands a core payload to the caller (ownership moves; no copy).
void give(gp_bytes_t* out, gp::Bytes&& bytes);

gp::Timeout to_timeout(std::int64_t timeout_ms);

}  // namespace gp::capi
