#include "clients/cli/views.h"

#include "gtest/gtest.h"
#include "lib/kube/json.h"

namespace labkube::cli {
namespace {

TEST(ViewsTest, MachinesCarryTheScriptableFields) {
  gw::MachineType m;
  m.set_group("lab");
  m.set_name("rtx3090");
  m.set_cpu("8");
  m.set_memory("32Gi");
  m.mutable_gpu()->set_model("NVIDIA-GeForce-RTX-3090");
  m.mutable_gpu()->set_count(2);
  m.set_maximum(4);
  m.set_reserved(1);
  m.set_used(3);
  m.set_waiting(2);
  m.set_free(1);
  rapidjson::Document doc(rapidjson::kArrayType);
  doc.PushBack(MachineView(m, doc.GetAllocator()), doc.GetAllocator());
  for (const char* key : {"group", "name", "maximum", "reserved", "used", "waiting", "free"}) {
    EXPECT_TRUE(doc[0].HasMember(key)) << key;
  }
  EXPECT_EQ(doc[0]["free"].GetInt(), 1);
  EXPECT_EQ(RenderList(doc, MachineColumns(), Format::kTable),
            "MACHINE TYPE  GPU                          CPU  MEMORY  FREE/TOTAL  WAITING\n"
            "lab/rtx3090   NVIDIA-GeForce-RTX-3090 x 2  8    32Gi    1/4         2\n");
}

TEST(ViewsTest, GpuColumnFallsBackToMachineThenFamily) {
  rapidjson::Document doc(rapidjson::kArrayType);
  for (auto [machine, family] : {std::pair{"DGX-1", "volta"}, {"", "ampere"}, {"", ""}}) {
    gw::MachineType m;
    m.set_name(machine[0] ? "dgx" : family[0] ? "amp" : "any");
    m.mutable_gpu()->set_count(1);
    m.mutable_gpu()->set_resource("nvidia.com/gpu");
    m.mutable_gpu()->set_machine(machine);
    m.mutable_gpu()->set_family(family);
    doc.PushBack(MachineView(m, doc.GetAllocator()), doc.GetAllocator());
  }
  std::string table = RenderList(doc, MachineColumns(), Format::kTable);
  EXPECT_NE(table.find("/dgx          DGX-1 x 1 "), std::string::npos) << table;
  EXPECT_NE(table.find("/amp          ampere x 1 "), std::string::npos) << table;
  EXPECT_NE(table.find("/any          nvidia.com/gpu x 1 "), std::string::npos) << table;
}

TEST(ViewsTest, WorkspacePhaseAndNode) {
  gw::Workspace w;
  w.set_name("nb");
  w.set_kind(gw::WORKSPACE_KIND_JUPYTERLAB);
  w.set_phase(gw::PHASE_WAITING);
  w.set_reason("NoFreeSlot");
  w.set_machine_group("lab");
  w.set_machine_type("a100");
  w.set_age_seconds(300);
  rapidjson::Document doc(rapidjson::kArrayType);
  doc.PushBack(WorkspaceView(w, doc.GetAllocator()), doc.GetAllocator());
  EXPECT_STREQ(doc[0]["phase"].GetString(), "waiting");
  EXPECT_STREQ(doc[0]["kind"].GetString(), "jupyterlab");
  EXPECT_TRUE(doc[0].HasMember("node"));
  std::string table = RenderList(doc, WorkspaceColumns(), Format::kTable);
  EXPECT_NE(table.find("waiting (NoFreeSlot)"), std::string::npos) << table;
  EXPECT_NE(table.find("5m"), std::string::npos) << table;
}

TEST(ViewsTest, PhaseTexts) {
  EXPECT_EQ(PhaseText(gw::PHASE_WAITING), "waiting");
  EXPECT_EQ(PhaseText(gw::PHASE_RUNNING), "running");
  EXPECT_EQ(PhaseText(gw::PHASE_STOPPED), "stopped");
}

TEST(ViewsTest, VolumesShowLastBackup) {
  gw::Storage s;
  gw::Volume* v = s.add_volumes();
  v->set_kind(gw::VOLUME_KIND_CEPHFS);
  v->set_size("10Gi");
  v->set_phase("Bound");
  s.mutable_backup()->mutable_last_success()->set_seconds(1714532400);
  rapidjson::Document doc(rapidjson::kArrayType);
  for (auto& row : VolumeViews(s, doc.GetAllocator())) doc.PushBack(row, doc.GetAllocator());
  EXPECT_STREQ(doc[0]["last_backup"].GetString(), "2024-05-01T03:00:00Z");
  EXPECT_STREQ(doc[0]["volume"].GetString(), "cephfs");
}

}  // namespace
}  // namespace labkube::cli

namespace labkube::cli {
namespace {

TEST(ViewsTest, AWorkspaceInLineShowsItsPlace) {
  gw::Workspace w;
  w.set_name("nb");
  w.set_kind(gw::WORKSPACE_KIND_JUPYTERLAB);
  w.set_phase(gw::PHASE_WAITING);
  w.set_reason("InLine");
  w.set_machine_group("lab");
  w.set_machine_type("rtx3090");
  w.set_queue_position(2);
  w.set_queue_length(3);
  w.set_estimate_note("no estimate: no maxRuntime");
  rapidjson::Document doc(rapidjson::kArrayType);
  doc.PushBack(WorkspaceView(w, doc.GetAllocator()), doc.GetAllocator());
  EXPECT_EQ(doc[0]["queue_position"].GetInt(), 2);
  EXPECT_EQ(std::string(doc[0]["estimated_start"].GetString()), "");
  EXPECT_NE(RenderList(doc, WorkspaceColumns(), Format::kTable)
                .find("lab/rtx3090   waiting (2 of 3 in line)"),
            std::string::npos)
      << RenderList(doc, WorkspaceColumns(), Format::kTable);
}

}  // namespace
}  // namespace labkube::cli
