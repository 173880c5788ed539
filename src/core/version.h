// The tool's version and the git commit it was built from, recorded in every run header.
// The commit comes from a file generated at configure time (src/CMakeLists.txt), so a new commit
// recompiles one file, not the project.
#pragma once

namespace lossgap {

const char* tool_version();  // "0.1.0"
const char* git_commit();    // short hash, or "unknown" outside a git checkout

}  // namespace lossgap
