#include "services/authenticator/bootstrap.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "lib/names.h"
#include "lib/service/kube_client.h"
#include "lib/status_macros.h"
#include "services/authenticator/member_provisioner.h"
#include "services/authenticator/member_store.h"
#include "services/authenticator/password_hasher.h"
#include "services/authenticator/secret_map.h"

namespace labkube::authenticator {

using names::IsDnsLabel;

absl::Status BootstrapAdmin(kube::Client& client, Clock& clock, const Options& options,
                            const std::string& name, const std::string& password) {
  if (!IsDnsLabel(name)) return absl::InvalidArgumentError("--name: not a DNS label");
  if (password.empty()) return absl::InvalidArgumentError("the password (stdin) is empty");
  LK_ASSIGN_OR_RETURN(auto hasher,
                      PasswordHasher::Create({options.hash_algorithm, options.hash_cost, 1}));
  LK_ASSIGN_OR_RETURN(std::string hash, hasher->Hash(password));
  MemberProvisioner provisioner(client,
                                ProvisionerOptions{options.namespace_prefix, options.member_role,
                                                   options.machine_viewer_role});
  LK_RETURN_IF_ERROR(provisioner.Provision(MemberSpec{name, {}, true}));
  SecretMap map(client, clock, options.system_namespace, options.members_secret);
  MemberStore members(map);
  absl::Status created = members.Create(name, MemberRecord{hash, clock.Now(), std::nullopt});
  if (created.code() == absl::StatusCode::kAlreadyExists) {
    return members.SetPasswordHash(name, hash);
  }
  return created;
}

int RunBootstrapAdmin(const Options& options, const std::string& name, bool password_stdin,
                      std::istream& password_in) {
  if (!password_stdin) {
    std::fprintf(stderr, "bootstrap-admin: pass the password on stdin with --password_stdin\n");
    return 2;
  }
  std::string password;
  std::getline(password_in, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) {
    password.pop_back();
  }
  absl::StatusOr<std::unique_ptr<kube::Client>> client = service::NewKubeClient(options.kubeconfig);
  absl::Status s = client.ok() ? BootstrapAdmin(**client, Clock::Real(), options, name, password)
                               : client.status();
  if (!s.ok()) {
    std::fprintf(stderr, "bootstrap-admin: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("admin %s is ready (namespace %s%s); log in through the authenticator\n",
              name.c_str(), options.namespace_prefix.c_str(), name.c_str());
  return 0;
}

}  // namespace labkube::authenticator
