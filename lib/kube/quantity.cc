#include "lib/kube/quantity.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"

namespace labkube::kube {
namespace {

using int128 = __int128;
constexpr int128 kLimit = static_cast<int128>(INT64_MAX);

struct Parsed {
  bool negative = false;
  int128 digits = 0;  // all digits of the number, fraction included
  int exp10 = 0;      // value = digits * 10^exp10 * 2^exp2
  int exp2 = 0;
};

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid quantity \"", ToAbsl(text), "\": ",
                                                 ToAbsl(why),
                                                 " (examples: 500m, 2, 1.5, 32Gi, 100M)"));
}

bool ApplySuffix(std::string_view s, Parsed& p) {
  static constexpr std::pair<std::string_view, int> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  static constexpr std::pair<std::string_view, int> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3},
      {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  for (const auto& [suffix, e] : kBinary) {
    if (s == suffix) return p.exp2 += e, true;
  }
  for (const auto& [suffix, e] : kDecimal) {
    if (s == suffix) return p.exp10 += e, true;
  }
  if (s.size() >= 2 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view rest = s.substr(1);
    bool neg = !rest.empty() && (rest[0] == '-' || rest[0] == '+') && rest[0] == '-';
    if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) rest.remove_prefix(1);
    if (rest.empty() || rest.size() > 3) return false;
    int e = 0;
    for (char c : rest) {
      if (c < '0' || c > '9') return false;
      e = e * 10 + (c - '0');
    }
    p.exp10 += neg ? -e : e;
    return true;
  }
  return false;
}

absl::StatusOr<Parsed> ParseText(std::string_view text) {
  Parsed p;
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) p.negative = text[i++] == '-';
  bool any = false, dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any = true;
    if (p.digits > kLimit) return Invalid(text, "too large");
    p.digits = p.digits * 10 + (c - '0');
    if (dot) --p.exp10;
  }
  if (!any) return Invalid(text, "no number");
  if (!ApplySuffix(text.substr(i), p)) return Invalid(text, "unknown suffix");
  return p;
}

// digits * 10^exp10 * 2^exp2, rounded up, or an error when it does not fit in int64.
absl::StatusOr<int64_t> Scale(std::string_view text, Parsed p) {
  int128 v = p.digits;
  for (; p.exp2 > 0; --p.exp2) {
    v <<= 1;
    if (v > kLimit) return Invalid(text, "too large");
  }
  for (; p.exp10 > 0; --p.exp10) {
    v *= 10;
    if (v > kLimit) return Invalid(text, "too large");
  }
  for (; p.exp10 < 0; ++p.exp10) v = (v + 9) / 10;
  if (p.negative) return Invalid(text, "negative");
  // Digits that need no scaling were never checked above (found by the machine fuzzer:
  // "10000000000000000000" read as a negative amount).
  if (v > kLimit) return Invalid(text, "too large");
  return static_cast<int64_t>(v);
}

}  // namespace

absl::StatusOr<int64_t> ParseQuantityMilli(std::string_view text) {
  auto p = ParseText(text);
  if (!p.ok()) return p.status();
  p->exp10 += 3;
  return Scale(text, *p);
}

absl::StatusOr<int64_t> ParseQuantity(std::string_view text) {
  auto p = ParseText(text);
  if (!p.ok()) return p.status();
  return Scale(text, *p);
}

absl::StatusOr<int64_t> QuantityMilli(const rapidjson::Value& v) {
  if (v.IsString()) return ParseQuantityMilli(std::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsInt64()) return ParseQuantityMilli(std::to_string(v.GetInt64()));
  if (v.IsNumber()) return ParseQuantityMilli(std::to_string(v.GetDouble()));
  return absl::InvalidArgumentError("quantity must be a string or a number");
}

absl::StatusOr<int64_t> QuantityValue(const rapidjson::Value& v) {
  if (v.IsString()) return ParseQuantity(std::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsInt64()) return ParseQuantity(std::to_string(v.GetInt64()));
  if (v.IsNumber()) return ParseQuantity(std::to_string(v.GetDouble()));
  return absl::InvalidArgumentError("quantity must be a string or a number");
}

}  // namespace labkube::kube
