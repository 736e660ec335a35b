#include "tracing/gzip.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace tracegate::tracing {
namespace {

namespace fs = std::filesystem;

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

/// Span-like JSON: compresses well, as real export batches do.
std::string compressible(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; s.size() < n; ++i)
        s += R"({"name":"GET /api/users","spanId":")" + std::to_string(i * 7919) +
             R"(","attributes":[{"key":"http.response.status_code","value":{"intValue":"200"}}]},)";
    s.resize(n);
    return s;
}

std::string round_trip(const std::string& data) {
    std::string packed;
    gzip_compress(data, packed);
    std::string unpacked = "leftover";
    EXPECT_TRUE(gzip_decompress(packed, unpacked));
    return unpacked;
}

/// Runs `gzip -dc` on `packed` and returns what it wrote, or nullopt when it failed.
std::optional<std::string> gzip_tool_decompress(const std::string& packed) {
    const auto dir = fs::temp_directory_path();
    const auto in = dir / ("tracegate-gzip-" + std::to_string(::getpid()) + ".gz");
    const auto out = dir / ("tracegate-gzip-" + std::to_string(::getpid()) + ".out");
    std::ofstream(in, std::ios::binary) << packed;
    const std::string command = "gzip -dc '" + in.string() + "' > '" + out.string() + "'";
    const int rc = std::system(command.c_str());
    std::ostringstream text;
    text << std::ifstream(out, std::ios::binary).rdbuf();
    fs::remove(in);
    fs::remove(out);
    if (rc != 0) return std::nullopt;
    return text.str();
}

TEST(gzip, empty_round_trips) { EXPECT_EQ(round_trip(""), ""); }

TEST(gzip, small_round_trips) { EXPECT_EQ(round_trip("hello, collector"), "hello, collector"); }

TEST(gzip, random_mebibyte_round_trips) {
    const auto data = random_bytes(1 << 20, 42);
    EXPECT_EQ(round_trip(data), data);
}

TEST(gzip, compressible_data_round_trips_and_shrinks) {
    const auto data = compressible(1 << 20);
    std::string packed;
    gzip_compress(data, packed);
    EXPECT_LT(packed.size(), data.size() / 5);
    std::string unpacked;
    ASSERT_TRUE(gzip_decompress(packed, unpacked));
    EXPECT_EQ(unpacked, data);
}

TEST(gzip, output_is_a_gzip_member) {
    std::string packed;
    gzip_compress("abc", packed);
    ASSERT_GE(packed.size(), 18u);  // RFC 1952 2.3: 10-byte header, 8-byte trailer
    EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
    EXPECT_EQ(packed[2], 8);  // CM = deflate
}

TEST(gzip, gzip_tool_reads_the_output) {
    for (const auto& data : {std::string(), std::string("small"), random_bytes(1 << 20, 7),
                             compressible(1 << 20)}) {
        std::string packed;
        gzip_compress(data, packed);
        const auto unpacked = gzip_tool_decompress(packed);
        ASSERT_TRUE(unpacked.has_value()) << "gzip -dc failed on " << data.size() << " bytes";
        EXPECT_EQ(*unpacked, data);
    }
}

TEST(gzip, compress_replaces_the_output) {
    std::string packed(1000, 'x');
    gzip_compress("a", packed);
    std::string unpacked;
    ASSERT_TRUE(gzip_decompress(packed, unpacked));
    EXPECT_EQ(unpacked, "a");
}

TEST(gzip, concatenated_members_decompress_whole) {
    std::string a, b;
    gzip_compress("first ", a);
    gzip_compress("second", b);
    std::string unpacked;
    ASSERT_TRUE(gzip_decompress(a + b, unpacked));
    EXPECT_EQ(unpacked, "first second");
}

TEST(gzip, invalid_input_is_rejected) {
    std::string packed;
    gzip_compress(compressible(10000), packed);
    std::string out;
    EXPECT_FALSE(gzip_decompress("", out));
    EXPECT_FALSE(gzip_decompress("not gzip at all", out));
    EXPECT_FALSE(gzip_decompress(random_bytes(1000, 1), out));

    EXPECT_FALSE(gzip_decompress(std::string_view(packed).substr(0, packed.size() - 1), out))
        << "truncated trailer";
    EXPECT_FALSE(gzip_decompress(std::string_view(packed).substr(0, packed.size() / 2), out))
        << "truncated data";
    EXPECT_FALSE(gzip_decompress(packed + "junk", out)) << "trailing garbage";

    auto bad_crc = packed;
    bad_crc[bad_crc.size() - 8] ^= 1;
    EXPECT_FALSE(gzip_decompress(bad_crc, out)) << "CRC32 mismatch";
    auto bad_length = packed;
    bad_length[bad_length.size() - 1] ^= 1;
    EXPECT_FALSE(gzip_decompress(bad_length, out)) << "ISIZE mismatch";

    const char zlib_stream[] = "\x78\x9c\x4b\x4c\x4a\x06\x00\x02\x4d\x01\x27";  // zlib("abc")
    EXPECT_FALSE(gzip_decompress(std::string_view(zlib_stream, sizeof zlib_stream - 1), out))
        << "a zlib stream is not gzip";
}

TEST(gzip, output_is_bounded_by_max_size) {
    const std::string data(1 << 20, 'z');
    std::string packed;
    gzip_compress(data, packed);
    std::string out;
    EXPECT_FALSE(gzip_decompress(packed, out, data.size() - 1));
    ASSERT_TRUE(gzip_decompress(packed, out, data.size()));
    EXPECT_EQ(out, data);
}

TEST(gzip, inflate_tells_too_large_from_invalid) {
    const std::string data(1 << 20, 'z');
    std::string packed;
    gzip_compress(data, packed);
    std::string out;
    EXPECT_EQ(gzip_inflate(packed, out, 4096), inflate_result::too_large);
    EXPECT_EQ(gzip_inflate("not gzip at all", out, 4096), inflate_result::invalid);
    EXPECT_EQ(gzip_inflate(std::string_view(packed).substr(0, packed.size() / 2), out, data.size() * 2),
              inflate_result::invalid);
    EXPECT_EQ(gzip_inflate(packed, out, data.size()), inflate_result::ok);
}

}  // namespace
}  // namespace tracegate::tracing
