// The HTML report's stylesheet and script (src/report/assets/*.css, *.js), embedded into the
// binary at build time by src/report/assets/embed.cmake, so the report needs no file beside the
// executable. Not a template engine: the assets are inlined as they are.
#pragma once

#include <string>
#include <string_view>

namespace lossgap {

// The contents of the embedded asset `name` ("report.css", "report.js"). An unknown name is a
// bug (LG_CHECK).
std::string html_asset(std::string_view name);

}  // namespace lossgap
