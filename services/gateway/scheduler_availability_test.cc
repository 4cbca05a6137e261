#include "services/gateway/scheduler_availability.h"

#include "gtest/gtest.h"

namespace labkube::gateway {
namespace {

sched::MachineType GpuType(const std::string& product) {
  sched::MachineType in;
  in.set_group("lab");
  in.set_name("x1");
  in.mutable_spec()->set_cpu("4");
  in.mutable_spec()->set_memory("16Gi");
  in.mutable_spec()->mutable_gpu()->set_type("nvidia.com/gpu");
  in.mutable_spec()->mutable_gpu()->set_num(1);
  in.mutable_spec()->mutable_gpu()->set_product(product);
  in.mutable_spec()->mutable_gpu()->set_family("ampere");
  in.mutable_usage()->set_maximum(2);
  in.mutable_usage()->set_reserved(1);
  in.mutable_usage()->set_used(1);
  return in;
}

TEST(FromSchedulerTest, CopiesSpecAndUsageAndFreeIsReserved) {
  gw::MachineType out = FromScheduler(GpuType("NVIDIA-A100"));
  EXPECT_EQ(out.group(), "lab");
  EXPECT_EQ(out.cpu(), "4");
  EXPECT_EQ(out.gpu().count(), 1);
  EXPECT_EQ(out.gpu().model(), "NVIDIA-A100");
  EXPECT_EQ(out.gpu().family(), "ampere");
  EXPECT_EQ(out.maximum(), 2);
  EXPECT_EQ(out.used(), 1);
  EXPECT_EQ(out.free(), 1);
}

TEST(FromSchedulerTest, ModelFromTheNodesWhenTheTypeNamesOnlyAFamily) {
  sched::MachineType in = GpuType("");
  in.add_gpu_products("NVIDIA-GeForce-RTX-3090");
  EXPECT_EQ(FromScheduler(in).gpu().model(), "NVIDIA-GeForce-RTX-3090");
  in.add_gpu_products("NVIDIA-GeForce-RTX-4090");
  EXPECT_EQ(FromScheduler(in).gpu().model(), "NVIDIA-GeForce-RTX-3090 or NVIDIA-GeForce-RTX-4090");
}

TEST(FromSchedulerTest, CpuOnlyTypeHasNoGpu) {
  sched::MachineType in;
  in.set_name("cpu");
  EXPECT_FALSE(FromScheduler(in).has_gpu());
}

}  // namespace
}  // namespace labkube::gateway
