#include "services/gateway/availability.h"

#include "gtest/gtest.h"

namespace labkube::gateway {
namespace {

gw::MachineType Type(const std::string& group, const std::string& name) {
  gw::MachineType t;
  t.set_group(group);
  t.set_name(name);
  return t;
}

TEST(ResolveMachineTypeTest, ByNameOrGroupAndName) {
  std::vector<gw::MachineType> types = {Type("lab", "a100"), Type("lab", "cpu"),
                                        Type("dgx", "v100"), Type("dgx", "cpu")};
  EXPECT_EQ(ResolveMachineType(types, "a100")->group(), "lab");
  EXPECT_EQ(ResolveMachineType(types, "dgx/cpu")->group(), "dgx");
  absl::StatusOr<gw::MachineType> ambiguous = ResolveMachineType(types, "cpu");
  EXPECT_EQ(ambiguous.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ambiguous.status().message().find("lab/cpu, dgx/cpu"), std::string::npos);
  absl::StatusOr<gw::MachineType> unknown = ResolveMachineType(types, "h100");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("valid: lab/a100, lab/cpu, dgx/v100, dgx/cpu"),
            std::string::npos)
      << unknown.status();
  EXPECT_EQ(ResolveMachineType(types, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveMachineType(types, "lab/v100").status().code(), absl::StatusCode::kNotFound);
}

TEST(FilterGroupTest, KeepsOneGroup) {
  std::vector<gw::MachineType> types = {Type("lab", "a"), Type("dgx", "b")};
  EXPECT_EQ(FilterGroup(types, "").size(), 2u);
  ASSERT_EQ(FilterGroup(types, "dgx").size(), 1u);
  EXPECT_EQ(FilterGroup(types, "dgx")[0].name(), "b");
}

}  // namespace
}  // namespace labkube::gateway
