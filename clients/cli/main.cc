// labctl: the lab members' command line (see commands.h). main only supplies the real
// terminal, streams and environment.
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "clients/cli/commands.h"
#include "clients/cli/exit_codes.h"

namespace {

absl::StatusOr<std::string> ReadSecret(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old_mode;
  const bool tty = tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (tty) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  if (!std::cin) return labkube::cli::LocalError("no password read");
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  labkube::cli::Io io{std::cin, std::cout, std::cerr,
                      [](const std::string& name) -> std::optional<std::string> {
                        const char* v = std::getenv(name.c_str());
                        if (v == nullptr) return std::nullopt;
                        return std::string(v);
                      },
                      nullptr};
  if (isatty(STDIN_FILENO)) io.read_secret = ReadSecret;
  std::vector<std::string> args(argv, argv + argc);
  return labkube::cli::RunLabctl(args, io);
}
