// The JSON shapes labctl prints (for -o json / yaml, and as the rows of its tables), built from
// the gateway's messages, and the table columns of each listing. Stable field names in
// snake_case; phases and kinds in lower case ("running", "jupyterlab").
//
//   machine:   group, name, cpu, memory, gpu_model, gpu_count, gpu_resource, maximum, reserved,
//   used,
//              waiting, fits, free
//   workspace: name, member, namespace, kind, machine_group, machine_type, image, phase,
//              reason, message, node, gpu_model, gpu_count, url, access_token, created,
//              age_seconds, volumes, queue_position, queue_length (0 unless waiting in
//              line), estimated_start ("" = none), estimate_note
//   volume:    volume (cephfs|nfs), claim, storage_class, size, capacity, phase, resizing,
//              mount_path, backup_schedule, last_backup, last_backup_attempt
//   member:    name, namespace, admin, has_password, created, last_login, active_sessions, quota
//
// Free functions; stateless; thread-safe.
#ifndef LABKUBE_CLIENTS_CLI_VIEWS_H_
#define LABKUBE_CLIENTS_CLI_VIEWS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clients/cli/output.h"
#include "labkube/gateway/v1alpha1/gateway.pb.h"
#include "rapidjson/document.h"

namespace labkube::cli {

namespace gw = ::labkube::gateway::v1alpha1;
using Allocator = rapidjson::Document::AllocatorType;

rapidjson::Value MachineView(const gw::MachineType& m, Allocator& a);
rapidjson::Value WorkspaceView(const gw::Workspace& w, Allocator& a);
// One row per volume of `s`, with the backup's schedule and times.
std::vector<rapidjson::Value> VolumeViews(const gw::Storage& s, Allocator& a);
rapidjson::Value MemberView(const gw::Member& m, Allocator& a);

std::vector<Column> MachineColumns();
std::vector<Column> WorkspaceColumns();
std::vector<Column> VolumeColumns();
std::vector<Column> MemberColumns();

std::string PhaseText(gw::Phase phase);
std::string KindText(gw::WorkspaceKind kind);
// "" for an unset timestamp.
std::string TimeText(const google::protobuf::Timestamp& t);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_VIEWS_H_
