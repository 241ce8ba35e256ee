// Result<T>: the error channel of every library layer.
//
// The API is an exact subset of std::expected<T, Error> (has_value, operator bool, *, ->,
// value(), error()), with fail(...) standing in for std::unexpected, so that moving to
// std::expected on a newer compiler is a rename. Library code never throws, prints or exits;
// tools turn an Error into kmod's message shape and exit code.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

#include "base/types.h"

namespace kmx {

// Error classes; each maps to the errno kmod would report for it.
enum class Errc {
  io,              // read/write failed (errno in sys_errno)
  not_found,       // ENOENT
  invalid_format,  // ENOEXEC: the bytes are not what the format says
  too_large,       // EFBIG: a cap was hit
  unsupported,     // ENOTSUP: valid but not something we handle (e.g. compression not built)
  invalid_argument,// EINVAL
  exists,          // EEXIST
  busy,            // EBUSY
  permission,      // EPERM
  no_data,         // ENODATA: an optional part is absent
};

struct Error {
  Errc code = Errc::invalid_format;
  std::string msg;
  int sys_errno = 0;  // set for Errc::io and when the OS gave a specific errno

  int to_errno() const;
};

// Failure marker, the std::unexpected of this API.
struct Failure {
  Error error;
};

inline Failure fail(Errc code, std::string msg) { return Failure{Error{code, std::move(msg), 0}}; }
inline Failure fail(Error e) { return Failure{std::move(e)}; }
// An OS error: keeps errno so that messages can show strerror() as kmod does.
Failure fail_errno(int err, std::string msg);

template <typename T>
class [[nodiscard]] Result {
public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  Result(Failure f) : v_(std::in_place_index<1>, std::move(f.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  const Error &error() const & { return std::get<1>(v_); }
  Error &&error() && { return std::get<1>(std::move(v_)); }

private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Failure f) : err_(std::move(f.error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}
  const Error &error() const & { return err_; }
  Error &&error() && { return std::move(err_); }

private:
  Error err_;
  bool ok_ = true;
};

using Status = Result<void>;

// Prefix the message with the file (or other context) it concerns: "'path': msg".
Error with_context(Error e, const std::string &ctx);

}  // namespace kmx

#define KMX_CONCAT_(a, b) a##b
#define KMX_CONCAT(a, b) KMX_CONCAT_(a, b)

// Propagate an error from an expression of type Result<T>/Status.
#define TRY(expr)                                            \
  do {                                                       \
    auto &&kmx_try_r_ = (expr);                              \
    if (!kmx_try_r_) return ::kmx::fail(std::move(kmx_try_r_).error()); \
  } while (0)

// TRY_ASSIGN(Type var, expr): declare var from a Result or return its error.
#define TRY_ASSIGN(decl, expr) TRY_ASSIGN_IMPL_(KMX_CONCAT(kmx_r_, __LINE__), decl, expr)
#define TRY_ASSIGN_IMPL_(tmp, decl, expr)                       \
  auto tmp = (expr);                                            \
  if (!tmp) return ::kmx::fail(std::move(tmp).error());         \
  decl = std::move(tmp).value()

// Like TRY, but prefixes the error with a context string (usually the file path).
#define TRY_CTX(expr, ctx)                                                            \
  do {                                                                                \
    auto &&kmx_try_r_ = (expr);                                                       \
    if (!kmx_try_r_) return ::kmx::fail(::kmx::with_context(std::move(kmx_try_r_).error(), (ctx))); \
  } while (0)
