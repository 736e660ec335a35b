#include "tracing/aws_xray_propagator.hpp"

#include "map_carrier.hpp"

#include <gtest/gtest.h>

namespace tracegate::tracing {
namespace {

using test::map_carrier;

const aws_xray_propagator propagator;
const std::string root = "Root=1-5759e988-bd862e3fe1be46a994272793";
const std::string parent = "Parent=53995c3f42cd8ad8";

std::optional<span_context> extract_xray(const std::string& value) {
    return propagator.extract(map_carrier{{"X-Amzn-Trace-Id", value}});
}

struct valid_case {
    const char* name;
    std::string value;
    std::optional<bool> decision;
};

class xray_accepted : public ::testing::TestWithParam<valid_case> {};

TEST_P(xray_accepted, with_epoch_and_unique_as_trace_id) {
    const auto ctx = extract_xray(GetParam().value);
    ASSERT_TRUE(ctx) << GetParam().value;
    EXPECT_EQ(ctx->trace_id.to_hex(), "5759e988bd862e3fe1be46a994272793");
    EXPECT_EQ(ctx->span_id.to_hex(), "53995c3f42cd8ad8");
    EXPECT_EQ(ctx->sampling_decision(), GetParam().decision);
    EXPECT_TRUE(ctx->is_remote);
}

INSTANTIATE_TEST_SUITE_P(
    xray, xray_accepted,
    ::testing::Values(valid_case{"sampled", root + ";" + parent + ";Sampled=1", true},
                      valid_case{"not_sampled", root + ";" + parent + ";Sampled=0", false},
                      valid_case{"decision_requested", root + ";" + parent + ";Sampled=?",
                                 std::nullopt},
                      valid_case{"no_sampled_field", root + ";" + parent, std::nullopt},
                      valid_case{"fields_in_any_order", "Sampled=1;" + parent + ";" + root, true},
                      valid_case{"self_and_lineage_are_ignored",
                                 "Self=1-67891234-12456789abcdef012345678;" + root + ";" + parent +
                                     ";Sampled=1;Lineage=a87bd80c:1|68fd508a:5",
                                 true},
                      valid_case{"custom_fields_are_ignored",
                                 root + ";" + parent + ";Sampled=1;CalledFrom=Foo", true},
                      valid_case{"ows_and_empty_fields_are_skipped",
                                 " " + root + " ; " + parent + ";;Sampled=1;", true}),
    [](const auto& info) { return std::string(info.param.name); });

struct invalid_case {
    const char* name;
    std::string value;
};

class xray_rejected : public ::testing::TestWithParam<invalid_case> {};

TEST_P(xray_rejected, gives_no_context) {
    EXPECT_FALSE(extract_xray(GetParam().value)) << GetParam().value;
}

INSTANTIATE_TEST_SUITE_P(
    xray, xray_rejected,
    ::testing::Values(
        invalid_case{"empty", ""}, invalid_case{"root_only", root},
        invalid_case{"parent_only", parent + ";Sampled=1"},
        invalid_case{"version_2", "Root=2-5759e988-bd862e3fe1be46a994272793;" + parent},
        invalid_case{"short_epoch", "Root=1-5759e98-bd862e3fe1be46a994272793;" + parent},
        invalid_case{"long_unique", "Root=1-5759e988-bd862e3fe1be46a9942727930;" + parent},
        invalid_case{"missing_root_dash", "Root=1-5759e988bd862e3fe1be46a994272793;" + parent},
        invalid_case{"uppercase_root", "Root=1-5759E988-BD862E3FE1BE46A994272793;" + parent},
        invalid_case{"zero_root", "Root=1-00000000-000000000000000000000000;" + parent},
        invalid_case{"short_parent", root + ";Parent=53995c3f42cd8ad"},
        invalid_case{"zero_parent", root + ";Parent=0000000000000000"},
        invalid_case{"non_hex_parent", root + ";Parent=53995c3f42cd8adx"},
        invalid_case{"unknown_sampled_value", root + ";" + parent + ";Sampled=yes"},
        invalid_case{"repeated_root", root + ";" + root + ";" + parent},
        invalid_case{"repeated_parent", root + ";" + parent + ";Parent=1111111111111111"},
        invalid_case{"repeated_sampled", root + ";" + parent + ";Sampled=1;Sampled=0"},
        invalid_case{"field_without_equals", root + ";" + parent + ";Sampled"},
        invalid_case{"lowercase_keys",
                     "root=1-5759e988-bd862e3fe1be46a994272793;parent=53995c3f42cd8ad8"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(xray, inject_splits_trace_id_into_epoch_and_unique) {
    auto ctx = test::remote_context("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", true);
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(headers.get("x-amzn-trace-id"), root + ";" + parent + ";Sampled=1");
}

TEST(xray, deferred_decision_is_written_without_sampled) {
    auto ctx =
        test::remote_context("5759e988bd862e3fe1be46a994272793", "53995c3f42cd8ad8", std::nullopt);
    EXPECT_EQ(aws_xray_propagator::format(ctx), root + ";" + parent);
}

class xray_round_trip : public ::testing::TestWithParam<std::optional<bool>> {};

TEST_P(xray_round_trip, extract_of_inject_is_identity) {
    const auto ctx =
        test::remote_context("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", GetParam());
    map_carrier headers;
    propagator.inject(ctx, headers);
    EXPECT_EQ(propagator.extract(headers), ctx);
}

INSTANTIATE_TEST_SUITE_P(xray, xray_round_trip,
                         ::testing::Values(std::optional<bool>(true), std::optional<bool>(false),
                                           std::optional<bool>()));

TEST(xray, fields_are_the_one_header) {
    ASSERT_EQ(propagator.fields().size(), 1u);
    EXPECT_EQ(propagator.fields()[0], "x-amzn-trace-id");
    EXPECT_EQ(propagator.name(), "xray");
}

}  // namespace
}  // namespace tracegate::tracing
