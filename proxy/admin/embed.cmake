# Writes OUTPUT, a C++ file defining tracegate::proxy::viewer_html with the bytes of INPUT.
# Run by a custom command, so a change to the page rebuilds only this file.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR byte_count "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from proxy/admin/viewer.html by proxy/admin/embed.cmake. Do not edit.\n"
  "#include <string_view>\n"
  "namespace tracegate::proxy {\n"
  "namespace { constexpr char bytes[] = {${bytes} 0}; }\n"
  "extern const std::string_view viewer_html;\n"
  "const std::string_view viewer_html{bytes, ${byte_count}};\n"
  "}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
