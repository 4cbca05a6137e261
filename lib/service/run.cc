#include "lib/service/run.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/log.h"
#include "lib/signals.h"

namespace labkube::service {

int ReportStartFailure(std::string_view program, const absl::Status& status) {
  std::string line = absl::StrCat(std::string(program), ": ", status.ToString(), "\n");
  std::fputs(line.c_str(), stderr);
  return 1;
}

void WaitForStopSignal(std::string_view program) {
  int signal = WaitForTerminationSignal();
  LogEvent(LogLevel::kInfo, "signal", {{"program", program}, {"signal", signal}});
}

}  // namespace labkube::service
