// test_server_config.cpp - .env parsing, the environment precedence of TOKEN_SERVER.md §2 and
// the start-up checks (D8).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "mintlane/server.hpp"

namespace mintlane::server {
namespace {

constexpr const char* kId = "970CA35de60c44645bbae8a215061b33";
constexpr const char* kCert = "5CFd2fd1755d40ecb72977518be15d3b";

using Env = std::map<std::string, std::string>;

class TempEnvFile {
 public:
  explicit TempEnvFile(const std::string& text) {
    char tmpl[] = "/tmp/mintlane_env_XXXXXX";
    int fd = mkstemp(tmpl);
    path_ = tmpl;
    ::close(fd);
    std::ofstream(path_) << text;
  }
  ~TempEnvFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string error_of(const std::string& file, const Env& env) {
  try {
    load_server_config_from_env(file, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ServerDotenv, ParsesTheUsualForms) {
  auto vars = parse_dotenv(
      "# comment\n"
      "APP_ID=abc\n"
      "export PORT=9000\n"
      "  SPACED = value with spaces  # trailing comment\n"
      "QUOTED=\"a # not a comment\\n\"\n"
      "SINGLE='$NOT_EXPANDED'\n"
      "EXPANDED=${APP_ID}-x\n"
      "YAML: style\n"
      "EMPTY=\n"
      "\r\n");
  std::map<std::string, std::string> m(vars.begin(), vars.end());
  EXPECT_EQ(m["APP_ID"], "abc");
  EXPECT_EQ(m["PORT"], "9000");
  EXPECT_EQ(m["SPACED"], "value with spaces");
  EXPECT_EQ(m["QUOTED"], "a # not a comment\n");
  EXPECT_EQ(m["SINGLE"], "$NOT_EXPANDED");
  EXPECT_EQ(m["EXPANDED"], "abc-x");
  EXPECT_EQ(m["YAML"], "style");
  EXPECT_EQ(m["EMPTY"], "");
}

TEST(ServerDotenv, MalformedLinesNameFileAndLine) {
  try {
    parse_dotenv("OK=1\njust words\n", "my.env");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "my.env:2: expected KEY=value");
  }
  EXPECT_THROW(parse_dotenv("A=\"unterminated\n"), ConfigError);
  EXPECT_THROW(parse_dotenv("1A=x\n"), ConfigError);
}

TEST(ServerEnv, ProcessEnvironmentWinsOverTheFileEvenWhenEmpty) {
  TempEnvFile f(std::string("APP_ID=") + kId + "\nAPP_CERTIFICATE=" + kCert +
                "\nSERVER_PORT=7000\nCORS_ALLOW_ORIGIN=http://file\n");
  auto s = load_server_config_from_env(f.path(), Env{{"SERVER_PORT", "7100"}});
  EXPECT_TRUE(s.env_file_loaded);
  EXPECT_EQ(s.app_id, kId);
  EXPECT_EQ(s.config.port, 7100);
  EXPECT_EQ(s.config.handler.cors_allow_origin, std::optional<std::string>("http://file"));
  // Present-but-empty in the environment hides the file's value (godotenv does not override).
  EXPECT_EQ(error_of(f.path(), Env{{"APP_ID", ""}}),
            "APP_ID is empty (it must be 32 hexadecimal characters)");
}

TEST(ServerEnv, PortFallsBackFromServerPortToPortTo8080) {
  Env base{{"APP_ID", kId}, {"APP_CERTIFICATE", kCert}};
  EXPECT_EQ(load_server_config_from_env("", base).config.port, 8080);
  Env p = base;
  p["PORT"] = "5000";
  EXPECT_EQ(load_server_config_from_env("", p).config.port, 5000);
  p["SERVER_PORT"] = "";
  EXPECT_EQ(load_server_config_from_env("", p).config.port, 5000);
  p["SERVER_PORT"] = "6000";
  EXPECT_EQ(load_server_config_from_env("", p).config.port, 6000);
  p["SERVER_PORT"] = "0";
  EXPECT_EQ(load_server_config_from_env("", p).config.port, 0);
  p["SERVER_PORT"] = "65536";
  EXPECT_EQ(error_of("", p), "SERVER_PORT must be a port number in 0..65535");
  p["SERVER_PORT"] = "";
  p["PORT"] = "http";
  EXPECT_EQ(error_of("", p), "PORT must be a port number in 0..65535");
}

TEST(ServerEnv, MissingOrMalformedCredentialsAreRefusedWithoutShowingThem) {
  EXPECT_EQ(error_of("", Env{{"APP_CERTIFICATE", kCert}}),
            "APP_ID is not set (export it or put it in .env: 32 hexadecimal characters)");
  EXPECT_EQ(error_of("", Env{{"APP_ID", kId}}),
            "APP_CERTIFICATE is not set (export it or put it in .env: 32 hexadecimal characters)");
  const std::string short_cert(kCert, 31);
  std::string e = error_of("", Env{{"APP_ID", kId}, {"APP_CERTIFICATE", short_cert}});
  EXPECT_EQ(e, "APP_CERTIFICATE must be exactly 32 hexadecimal characters (got 31 characters)");
  std::string bad = kCert;
  bad[5] = 'g';
  e = error_of("", Env{{"APP_ID", kId}, {"APP_CERTIFICATE", bad}});
  EXPECT_NE(e.find("character 6 is not 0-9 a-f A-F"), std::string::npos) << e;
  EXPECT_EQ(e.find(bad), std::string::npos);
  EXPECT_EQ(e.find(short_cert), std::string::npos);
}

TEST(ServerEnv, AuthTokenAndCorsComeFromTheEnvironment) {
  Env env{{"APP_ID", kId}, {"APP_CERTIFICATE", kCert}, {"MINTLANE_AUTH_TOKEN", "s3cret-token"},
          {"CORS_ALLOW_ORIGIN", "*"}};
  auto s = load_server_config_from_env("", env);
  EXPECT_EQ(s.config.handler.auth_token, std::optional<std::string>("s3cret-token"));
  EXPECT_EQ(s.config.handler.cors_allow_origin, std::optional<std::string>("*"));
  env["MINTLANE_AUTH_TOKEN"] = "has space";
  EXPECT_EQ(error_of("", env), "MINTLANE_AUTH_TOKEN must be printable ASCII without spaces");
  env["MINTLANE_AUTH_TOKEN"] = "";
  EXPECT_FALSE(load_server_config_from_env("", env).config.handler.auth_token.has_value());
}

TEST(ServerEnv, MissingEnvFileIsNotAnError) {
  auto s = load_server_config_from_env("/nonexistent/.env",
                                       Env{{"APP_ID", kId}, {"APP_CERTIFICATE", kCert}});
  EXPECT_FALSE(s.env_file_loaded);
}

TEST(ServerConfigCheck, RejectsOutOfRangeSettings) {
  ServerConfig c;
  EXPECT_NO_THROW(validate_server_config(c));
  c.threads = 5000;
  EXPECT_THROW(validate_server_config(c), ConfigError);
  c = {};
  c.host = "not-an-ip";
  EXPECT_THROW(validate_server_config(c), ConfigError);
  c = {};
  c.idle_timeout = std::chrono::milliseconds(0);
  EXPECT_THROW(validate_server_config(c), ConfigError);
  c = {};
  c.header_limit = 10;
  EXPECT_THROW(validate_server_config(c), ConfigError);
  c = {};
  c.host = "::";
  EXPECT_NO_THROW(validate_server_config(c));
}

}  // namespace
}  // namespace mintlane::server
