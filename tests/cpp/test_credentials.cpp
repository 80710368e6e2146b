// test_credentials.cpp - credential validation messages and wiping of the certificate's memory.
#include <gtest/gtest.h>

#include <string.h>  // memmem (GNU)

#include <cstring>
#include <new>
#include <string>

#include "mintlane/credentials.hpp"
#include "mintlane/errors.hpp"
#include "mintlane/minter.hpp"

namespace {
constexpr char kAppId[] = "970CA35de60c44645bbae8a215061b33";
constexpr char kCert[] = "5CFd2fd1755d40ecb72977518be15d3b";
}  // namespace

TEST(Credentials, RejectsMalformedValuesWithoutEchoingThem) {
  const std::string bad_cert = "5CFd2fd1755d40ecb72977518be15dZZ";
  try {
    mintlane::Credentials c(kAppId, bad_cert);
    FAIL() << "accepted a non-hex certificate";
  } catch (const mintlane::InvalidArgument& e) {
    EXPECT_EQ(e.field(), "app_certificate");
    EXPECT_NE(std::string(e.what()).find("position 30"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("5CFd"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mintlane::Credentials("short", kCert), mintlane::InvalidArgument);
  EXPECT_TRUE(mintlane::is_hex32(kCert));
  EXPECT_FALSE(mintlane::is_hex32(" 5CFd2fd1755d40ecb72977518be15d3"));
}

TEST(Credentials, DestructorWipesTheCertificate) {
  alignas(mintlane::Credentials) unsigned char storage[sizeof(mintlane::Credentials)];
  auto* c = new (storage) mintlane::Credentials(kAppId, kCert);
  ASSERT_EQ(c->certificate(), kCert);
  const void* where = c->certificate().data();
  const std::size_t offset = static_cast<const unsigned char*>(where) - storage;
  c->~Credentials();
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(storage[offset + i], 0) << "byte " << i;
  EXPECT_EQ(::memmem(storage, sizeof storage, kCert, 32), nullptr);
}

TEST(Credentials, MinterHoldsTheOnlyCopyAndWipesItOnDestruction) {
  alignas(mintlane::Minter) unsigned char storage[sizeof(mintlane::Minter)];
  auto* m = new (storage) mintlane::Minter(kAppId, kCert, mintlane::MinterOptions{mintlane::Compression::kFast, 1});
  ASSERT_NE(::memmem(storage, sizeof storage, kCert, 32), nullptr);
  m->~Minter();
  EXPECT_EQ(::memmem(storage, sizeof storage, kCert, 32), nullptr);
}
