#include "base/result.h"

namespace kmx {

int Error::to_errno() const {
  if (sys_errno != 0) return sys_errno;
  switch (code) {
  case Errc::io: return EIO;
  case Errc::not_found: return ENOENT;
  case Errc::invalid_format: return ENOEXEC;
  case Errc::too_large: return EFBIG;
  case Errc::unsupported: return ENOTSUP;
  case Errc::invalid_argument: return EINVAL;
  case Errc::exists: return EEXIST;
  case Errc::busy: return EBUSY;
  case Errc::permission: return EPERM;
  case Errc::no_data: return ENODATA;
  }
  return EINVAL;
}

Failure fail_errno(int err, std::string msg) {
  Errc code = Errc::io;
  switch (err) {
  case ENOENT: code = Errc::not_found; break;
  case EPERM:
  case EACCES: code = Errc::permission; break;
  case EEXIST: code = Errc::exists; break;
  case EBUSY: code = Errc::busy; break;
  case EINVAL: code = Errc::invalid_argument; break;
  case ENOEXEC: code = Errc::invalid_format; break;
  default: break;
  }
  return Failure{Error{code, std::move(msg), err}};
}

Error with_context(Error e, const std::string &ctx) {
  e.msg = "'" + ctx + "': " + e.msg;
  return e;
}

}  // namespace kmx
