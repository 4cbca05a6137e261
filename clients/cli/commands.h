// labctl's command layer: builds the CLI11 command tree, parses `args` (args[0] is the program
// name), runs the chosen command against the gateway and returns the exit code (exit_codes.h).
// Output goes to io.out, messages and progress to io.err ("labctl: <message>"); nothing throws
// out of it. main.cc only supplies the real Io; tests run it in-process.
//
// Commands: login, logout, whoami, passwd, kubeconfig [--merge], credential, machines,
// storage create|resize|delete|list, ide start|stop|list|describe, queue,
// admin member create|delete|passwd|list, completion bash. `labctl --help` and
// `labctl <command> --help` describe each.
//
// Not thread-safe (one command per call); reentrant across calls.
#ifndef LABKUBE_CLIENTS_CLI_COMMANDS_H_
#define LABKUBE_CLIENTS_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "clients/cli/session.h"

namespace labkube::cli {

int RunLabctl(const std::vector<std::string>& args, Io& io);

}  // namespace labkube::cli

#endif  // LABKUBE_CLIENTS_CLI_COMMANDS_H_
