// Publish a file atomically: write to a temporary file in the same directory, fsync-free
// by default (as kmod), then rename() over the target. A reader sees either the old file
// or the complete new one; a crash leaves at most a stray temporary, never a half file.
#pragma once

#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

enum class IfUnchanged { rewrite, keep };

// Write `content` to `path` atomically with the given mode. With IfUnchanged::keep an
// existing file whose bytes already equal `content` is left untouched (mtime preserved).
// Returns true if the file was (re)written.
Result<bool> write_file_atomic(const std::string &path, std::string_view content, unsigned mode = 0644,
                               IfUnchanged policy = IfUnchanged::rewrite);

}  // namespace kmx
