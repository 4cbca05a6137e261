#include "lib/ordinal.h"

#include "absl/strings/str_cat.h"

namespace labkube {

std::string Ordinal(int n) {
  int tens = n % 100, ones = n % 10;
  const char* suffix = (tens >= 11 && tens <= 13) ? "th"
                       : ones == 1                ? "st"
                       : ones == 2                ? "nd"
                       : ones == 3                ? "rd"
                                                  : "th";
  return absl::StrCat(n, suffix);
}

}  // namespace labkube
