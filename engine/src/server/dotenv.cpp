// dotenv.cpp - `.env` files as the reference service reads them (github.com/joho/godotenv):
// KEY=value or KEY: value lines, optional `export `, '#' comments, single quotes literal,
// double quotes with \n \r \t \" \\ \$ escapes, ${VAR} / $VAR expansion outside single quotes.
#include <cstdlib>
#include <string>

#include "mintlane/server.hpp"

namespace mintlane::server {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool key_char(char c, bool first) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') return true;
  return !first && ((c >= '0' && c <= '9') || c == '.');
}

[[noreturn]] void fail(std::string_view file, std::size_t line, std::string_view what) {
  throw ConfigError(std::string(file) + ":" + std::to_string(line) + ": " + std::string(what));
}

using Vars = std::vector<std::pair<std::string, std::string>>;

std::string lookup(const Vars& vars, std::string_view name) {
  for (auto it = vars.rbegin(); it != vars.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  if (const char* v = std::getenv(std::string(name).c_str())) return v;
  return {};
}

// Expands $VAR / ${VAR}; with `escapes`, also the double-quote escapes.
std::string expand(std::string_view v, const Vars& vars, bool escapes) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (escapes && c == '\\' && i + 1 < v.size()) {
      char e = v[++i];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        default: out.push_back(e); break;  // \" \\ \$ and anything else: the character itself
      }
      continue;
    }
    if (c == '$' && i + 1 < v.size()) {
      std::size_t start = i + 1;
      bool braced = v[start] == '{';
      if (braced) ++start;
      std::size_t end = start;
      while (end < v.size() && key_char(v[end], end == start)) ++end;
      if (end > start && (!braced || (end < v.size() && v[end] == '}'))) {
        out += lookup(vars, v.substr(start, end - start));
        i = braced ? end : end - 1;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text,
                                                              std::string_view file_name) {
  Vars vars;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line_no == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, 7) == "export " || line.substr(0, 7) == "export\t") line = trim(line.substr(7));
    std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos) fail(file_name, line_no, "expected KEY=value");
    std::string_view key = trim(line.substr(0, sep));
    if (key.empty()) fail(file_name, line_no, "missing variable name before '='");
    for (std::size_t i = 0; i < key.size(); ++i) {
      if (!key_char(key[i], i == 0)) {
        fail(file_name, line_no, "variable names use A-Z a-z 0-9 _ . and do not start with a digit");
      }
    }
    std::string_view rest = trim(line.substr(sep + 1));
    std::string value;
    if (!rest.empty() && (rest[0] == '"' || rest[0] == '\'')) {
      const char q = rest[0];
      std::size_t close = 1;
      while (close < rest.size() && rest[close] != q) {
        if (q == '"' && rest[close] == '\\') ++close;
        ++close;
      }
      if (close >= rest.size()) fail(file_name, line_no, "unterminated quoted value");
      std::string_view after = trim(rest.substr(close + 1));
      if (!after.empty() && after[0] != '#') {
        fail(file_name, line_no, "unexpected characters after the closing quote");
      }
      std::string_view inner = rest.substr(1, close - 1);
      value = q == '\'' ? std::string(inner) : expand(inner, vars, /*escapes=*/true);
    } else {
      // Unquoted: an inline comment starts at a '#' preceded by whitespace.
      for (std::size_t i = 1; i < rest.size(); ++i) {
        if (rest[i] == '#' && is_space(rest[i - 1])) {
          rest = trim(rest.substr(0, i));
          break;
        }
      }
      value = expand(rest, vars, /*escapes=*/false);
    }
    vars.emplace_back(std::string(key), std::move(value));
  }
  return vars;
}

}  // namespace mintlane::server
