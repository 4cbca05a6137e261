// labkube authenticator: flags -> Options -> Server::Create -> wait for SIGTERM.
//   labkube-authenticator [flags]                                   serve
//   labkube-authenticator bootstrap-admin --name=NAME --password-stdin [--kubeconfig=...]
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "lib/service/run.h"
#include "lib/signals.h"
#include "services/authenticator/bootstrap.h"
#include "services/authenticator/flags.h"
#include "services/authenticator/server.h"

int main(int argc, char** argv) {
  labkube::PrepareServiceProcess();
  for (int i = 1; i < argc; ++i) {  // docker-style spelling of --password_stdin
    if (std::string(argv[i]) == "--password-stdin") argv[i] = const_cast<char*>("--password_stdin");
  }
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  labkube::authenticator::Options o = labkube::authenticator::OptionsFromFlags();
  if (args.size() > 1 && std::string(args[1]) == "bootstrap-admin") {
    auto b = labkube::authenticator::BootstrapFlagsFromFlags();
    return labkube::authenticator::RunBootstrapAdmin(o, b.name, b.password_stdin, std::cin);
  }
  if (args.size() > 1) {
    std::fprintf(stderr, "labkube-authenticator: unknown command %s\n", args[1]);
    return 2;
  }
  return labkube::service::RunUntilSignal("labkube-authenticator",
                                          labkube::authenticator::Server::Create(o),
                                          absl::Seconds(5));
}
