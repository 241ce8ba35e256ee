// Entry points of the kmx tools. Each takes the argv it was started with (argv[0] is the
// tool's name) and returns the process exit code. Only this layer prints, reads argv or exits.
#pragma once

namespace kmx {



}  // namespace kmx
