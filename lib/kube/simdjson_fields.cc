#include "lib/kube/simdjson_fields.h"

#include <cstring>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "lib/kube/absl_compat.h"

namespace labkube::kube::sj {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

bool HasEscapes(std::string_view s) { return std::memchr(s.data(), '\\', s.size()) != nullptr; }

// The text between the quotes of string value `v` when it has no escapes (stage 1 has checked
// its UTF-8 and control characters already): the common case, copied once from the input
// instead of unescaped into the parser's buffer first. False otherwise; `v` is not consumed.
bool PlainString(od::value& v, std::string_view& out) {
  std::string_view token = v.raw_json_token();  // `"text"` and the spaces after it
  size_t end = token.size();
  while (end > 0 && IsSpace(token[end - 1])) --end;
  if (end < 2 || token[0] != '"' || token[end - 1] != '"') return false;
  out = token.substr(1, end - 2);
  return !HasEscapes(out);
}

// A bad number (e.g. "1.5.5"), as opposed to a number of another kind than asked for.
bool ValidNumber(od::value& v) {
  double ignored;
  return v.get_double().get(ignored) == simdjson::SUCCESS;
}

int Digits(const char* p, int n) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  return v;
}

// RFC 3339, as types.cc: the common "2024-05-01T10:00:00Z" without a general parser.
bool ParseRfc3339(std::string_view s, absl::Time& out) {
  if (s.size() == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
      s[16] == ':' && s[19] == 'Z') {
    const char* p = s.data();
    int y = Digits(p, 4), mo = Digits(p + 5, 2), d = Digits(p + 8, 2), h = Digits(p + 11, 2),
        mi = Digits(p + 14, 2), se = Digits(p + 17, 2);
    if (y >= 0 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h < 24 && mi >= 0 &&
        mi < 60 && se >= 0 && se < 61) {
      out = absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, se), absl::UTCTimeZone());
      return true;
    }
  }
  std::string err;
  return absl::ParseTime(absl::RFC3339_full, std::string(s), &out, &err);
}

// A map value that is not a plain string: a string with escapes, or with `numbers_ok` a number
// (as types.cc prints it); `ok` false for any other type.
absl::Status MapValue(od::value& v, bool numbers_ok, bool& ok, std::string& out) {
  ok = true;
  std::string_view s;
  simdjson::error_code string_error = v.get_string().get(s);
  if (string_error == simdjson::SUCCESS) {
    out.assign(s.data(), s.size());
    return absl::OkStatus();
  }
  if (string_error != simdjson::INCORRECT_TYPE) return JsonError(string_error);
  od::json_type type;
  if (simdjson::error_code e = v.type().get(type)) return JsonError(e);
  if (numbers_ok && type == od::json_type::number) {
    int64_t i;
    double d;
    if (v.get_int64().get(i) == simdjson::SUCCESS) {
      out = std::to_string(i);
    } else if (simdjson::error_code e = v.get_double().get(d)) {
      return JsonError(e);
    } else {
      out = absl::StrCat(d);
    }
  } else {
    ok = false;
    return CheckScalar(v, type);
  }
  return absl::OkStatus();
}

// Consumes the string value `v` (its text was read through PlainString).
absl::Status ConsumeString(od::value& v) {
  od::raw_json_string consumed;
  simdjson::error_code e = v.get_raw_json_string().get(consumed);
  return e == simdjson::SUCCESS ? absl::OkStatus() : JsonError(e);
}

// One member of the map at `here`. As std::map::emplace in types.cc, a key already there keeps
// its value (the first occurrence wins).
absl::Status MapEntry(od::field& field, const At& here, bool numbers_ok, StringMap& out) {
  std::string_view name;
  LK_RETURN_IF_ERROR(Key(field, name));
  std::string_view plain;
  if (PlainString(field.value(), plain)) {
    out.emplace_hint(out.end(), std::piecewise_construct, std::forward_as_tuple(name),
                     std::forward_as_tuple(plain));
    return ConsumeString(field.value());
  }
  std::string value;
  bool ok = false;
  LK_RETURN_IF_ERROR(MapValue(field.value(), numbers_ok, ok, value));
  if (!ok) {
    // types.cc names the key as a C string: up to a NUL.
    return Bad(here, name.substr(0, name.find('\0')), numbers_ok ? "a quantity" : "a string");
  }
  out.emplace_hint(out.end(), std::string(name), std::move(value));
  return absl::OkStatus();
}

}  // namespace

std::string At::str() const {
  std::string head = parent == nullptr ? "" : parent->str();
  if (index >= 0) return absl::StrCat(head, "[", index, "]");
  return head.empty() ? std::string(key) : absl::StrCat(head, ".", ToAbsl(key));
}

absl::Status Bad(const At& at, std::string_view key, const char* want) {
  At field{&at, key};
  return absl::InvalidArgumentError(absl::StrCat(field.str(), ": must be ", want));
}

absl::Status JsonError(simdjson::error_code code) {
  return absl::DataLossError(simdjson::error_message(code));
}

absl::Status Key(od::field& field, std::string_view& key) {
  // The key's text runs from after its opening quote to the quote before the ':' that precedes
  // the value (simdjson has checked that colon); spaces may surround the colon.
  const char* raw = field.key().raw();
  const char* end = field.value().raw_json_token().data();
  while (end > raw && IsSpace(end[-1])) --end;
  if (end > raw && end[-1] == ':') --end;
  while (end > raw && IsSpace(end[-1])) --end;
  if (end > raw && end[-1] == '"') {
    key = std::string_view(raw, end - 1 - raw);
    if (!HasEscapes(key)) return absl::OkStatus();
  }
  if (simdjson::error_code e = field.unescaped_key().get(key)) return JsonError(e);
  return absl::OkStatus();
}

absl::Status CheckScalar(od::value& v, od::json_type type) {
  simdjson::error_code e = simdjson::SUCCESS;
  bool b;
  std::string_view s;
  switch (type) {
    case od::json_type::boolean:
      e = v.get_bool().get(b);
      break;
    case od::json_type::string:
      e = v.get_string().get(s);
      break;
    case od::json_type::number:
      e = ValidNumber(v) ? e : simdjson::NUMBER_ERROR;
      break;
    case od::json_type::null:
      e = v.is_null().get(b);
      if (e == simdjson::SUCCESS && !b) e = simdjson::N_ATOM_ERROR;
      break;
    default:
      break;  // objects and lists: read (and so checked) only where decoded
  }
  return e == simdjson::SUCCESS ? absl::OkStatus() : JsonError(e);
}

absl::Status Expect(od::value& v, od::json_type want, const At& at, std::string_view key,
                    const char* what, bool& present) {
  od::json_type type;
  if (simdjson::error_code e = v.type().get(type)) return JsonError(e);
  present = type == want;
  if (present) return absl::OkStatus();
  LK_RETURN_IF_ERROR(CheckScalar(v, type));
  return type == od::json_type::null ? absl::OkStatus() : Bad(at, key, what);
}

absl::Status Str(od::value& v, const At& at, std::string_view key, std::string& out) {
  std::string_view s;
  if (PlainString(v, s)) {
    out.assign(s.data(), s.size());
    return ConsumeString(v);
  }
  simdjson::error_code e = v.get_string().get(s);
  if (e == simdjson::SUCCESS) {
    out.assign(s.data(), s.size());
    return absl::OkStatus();
  }
  if (e != simdjson::INCORRECT_TYPE) return JsonError(e);
  bool present;  // null (absent) or a wrong type
  return Expect(v, od::json_type::string, at, key, "a string", present);
}

absl::Status Int(od::value& v, const At& at, std::string_view key, std::optional<int64_t>& out) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::number, at, key, "an integer", present));
  if (!present) return absl::OkStatus();
  int64_t i;
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    out = i;
    return absl::OkStatus();
  }
  // A fraction, an exponent or out of range: RapidJSON's IsInt64() is false too.
  if (!ValidNumber(v)) return JsonError(simdjson::NUMBER_ERROR);
  return Bad(at, key, "an integer");
}

absl::Status Int(od::value& v, const At& at, std::string_view key, int64_t& out) {
  std::optional<int64_t> i;
  LK_RETURN_IF_ERROR(Int(v, at, key, i));
  if (i.has_value()) out = *i;
  return absl::OkStatus();
}

absl::Status Bool(od::value& v, const At& at, std::string_view key, bool& out) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::boolean, at, key, "true or false", present));
  if (!present) return absl::OkStatus();
  if (simdjson::error_code e = v.get_bool().get(out)) return JsonError(e);
  return absl::OkStatus();
}

absl::Status Time(od::value& v, const At& at, std::string_view key, absl::Time& out,
                  bool& present) {
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::string, at, key, "an RFC 3339 time", present));
  if (!present) return absl::OkStatus();
  std::string_view s;
  if (simdjson::error_code e = v.get_string().get(s)) return JsonError(e);
  if (!ParseRfc3339(s, out)) return Bad(at, key, "an RFC 3339 time");
  return absl::OkStatus();
}

absl::Status Map(od::value& v, const At& at, std::string_view key, StringMap& out,
                 bool numbers_ok) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::object, at, key, "an object", present));
  if (!present) return absl::OkStatus();
  od::object object;
  if (simdjson::error_code e = v.get_object().get(object)) return JsonError(e);
  At here{&at, key};
  for (auto result : object) {
    od::field field;
    if (simdjson::error_code e = std::move(result).get(field)) return JsonError(e);
    LK_RETURN_IF_ERROR(MapEntry(field, here, numbers_ok, out));
  }
  return absl::OkStatus();
}

absl::Status StrList(od::value& v, const At& at, std::string_view key,
                     std::vector<std::string>& out) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::array, at, key, "a list", present));
  if (!present) return absl::OkStatus();
  od::array array;
  if (simdjson::error_code e = v.get_array().get(array)) return JsonError(e);
  for (auto result : array) {
    od::value element;
    if (simdjson::error_code e = std::move(result).get(element)) return JsonError(e);
    od::json_type type;
    if (simdjson::error_code e = element.type().get(type)) return JsonError(e);
    if (type != od::json_type::string) {
      LK_RETURN_IF_ERROR(CheckScalar(element, type));
      return Bad(at, key, "a list of strings");
    }
    std::string_view s;
    if (simdjson::error_code e = element.get_string().get(s)) return JsonError(e);
    out.emplace_back(s);
  }
  return absl::OkStatus();
}

absl::Status NonEmptyObject(od::value& v, const At& at, std::string_view key, bool& out) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::object, at, key, "an object", present));
  out = false;
  if (!present) return absl::OkStatus();
  od::object object;
  if (simdjson::error_code e = v.get_object().get(object)) return JsonError(e);
  for (auto result : object) {
    od::field field;
    if (simdjson::error_code e = std::move(result).get(field)) return JsonError(e);
    out = true;
  }
  return absl::OkStatus();
}

}  // namespace labkube::kube::sj
