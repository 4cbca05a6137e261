// Field readers for decoding Kubernetes objects with simdjson's On-Demand API into the typed
// structs of types.h, following the rules and messages of types.cc's RapidJSON decoder:
//   - a missing or null field leaves the output as it is; unknown fields are skipped;
//   - when a key appears twice in an object, the first occurrence wins (as RapidJSON's
//     FindMember), including a first occurrence that is null;
//   - a field of the wrong JSON type is kInvalidArgument "<path>: must be <what>", e.g.
//     "spec.containers[1].resources.requests.cpu: must be a quantity".
// types.cc checks the fields of an object in a fixed order and reports the first failing one;
// On-Demand reads them in document order, so Fields() decodes every field and FirstError keeps
// the error of the field that types.cc checks first.
//
// Malformed JSON met while reading (any simdjson error other than a wrong type) is reported as
// kDataLoss inside the decoders, so that every caller stops at once (IsJsonError());
// PodListDecoder turns it into kInvalidArgument "invalid JSON ...". On-Demand validates only
// what it reads: bad literals or numbers inside skipped (unknown) fields go unnoticed.
//
// Internal to the On-Demand decoders (pod_list_decoder.h). Each reader consumes the value it is
// given; strings are copied out, straight from the input when they have no escapes (simdjson's
// first pass has checked the UTF-8 and control characters of every string). Free functions and
// small value types without shared state: safe from any thread as long as each simdjson document is
// used by one thread at a time.
#ifndef LABKUBE_LIB_KUBE_SIMDJSON_FIELDS_H_
#define LABKUBE_LIB_KUBE_SIMDJSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "lib/kube/types.h"
#include "lib/status_macros.h"
#include "simdjson.h"

namespace labkube::kube::sj {

namespace od = simdjson::ondemand;

// Where a field is, for error messages: {parent, key} or {parent, index}; the text is built
// only when an error needs it ("spec.containers[1].resources").
struct At {
  const At* parent;
  std::string_view key;
  int index = -1;

  std::string str() const;
};

// kInvalidArgument "<at>.<key>: must be <want>".
absl::Status Bad(const At& at, std::string_view key, const char* want);
// Malformed JSON (kDataLoss until PodListDecoder reports it): stop decoding.
absl::Status JsonError(simdjson::error_code code);
inline bool IsJsonError(const absl::Status& s) { return s.code() == absl::StatusCode::kDataLoss; }

// The error to report for one object: the type error of the field ranked first (ranks follow
// types.cc's check order), unless malformed JSON was met, which wins at once.
class FirstError {
 public:
  // Records the outcome of the field ranked `rank`; false when decoding must stop.
  bool Add(int rank, absl::Status s) {
    if (s.ok()) return true;
    if (IsJsonError(s)) {
      status_ = std::move(s);
      rank_ = -1;
      return false;
    }
    if (rank < rank_) {
      status_ = std::move(s);
      rank_ = rank;
    }
    return true;
  }
  absl::Status status() && { return std::move(status_); }

 private:
  absl::Status status_;
  int rank_ = 1 << 30;
};

// The unescaped key of `field`: a view into the input (or, when the key has escapes, into the
// parser's string buffer), valid as long as the document.
absl::Status Key(od::field& field, std::string_view& key);

// `key`'s index in `keys`, or -1.
template <size_t N>
int KeyIndex(const std::string_view (&keys)[N], std::string_view key) {
  for (size_t i = 0; i < N; ++i) {
    if (keys[i] == key) return static_cast<int>(i);
  }
  return -1;
}

// Malformed JSON when `v`, of type `type`, is a malformed scalar (e.g. `tru`, `1.5.5`, a bad
// escape); OK otherwise. Checked before reporting a wrong type, so that malformed JSON is
// reported as such.
absl::Status CheckScalar(od::value& v, od::json_type type);

// Whether `v` (the value of `key` below `at`) is there: false when null, true when of type
// `want`, Bad(at, key, what) for any other type.
absl::Status Expect(od::value& v, od::json_type want, const At& at, std::string_view key,
                    const char* what, bool& present);

// Readers named after types.cc's, for the value `v` of member `key` of the object at `at`.
absl::Status Str(od::value& v, const At& at, std::string_view key, std::string& out);
absl::Status Int(od::value& v, const At& at, std::string_view key, std::optional<int64_t>& out);
absl::Status Int(od::value& v, const At& at, std::string_view key, int64_t& out);
absl::Status Bool(od::value& v, const At& at, std::string_view key, bool& out);
// RFC 3339; `present` is false when null.
absl::Status Time(od::value& v, const At& at, std::string_view key, absl::Time& out, bool& present);
// An object of strings; `numbers_ok`: quantities may be JSON numbers.
absl::Status Map(od::value& v, const At& at, std::string_view key, StringMap& out,
                 bool numbers_ok = false);
absl::Status StrList(od::value& v, const At& at, std::string_view key,
                     std::vector<std::string>& out);
// Whether the object `v` has members (false when null).
absl::Status NonEmptyObject(od::value& v, const At& at, std::string_view key, bool& out);

// Calls `fn(rank, key, value)` for the first occurrence of each of `keys` in `object` (`key` is
// keys[rank]) and returns the error of the lowest rank (every field is decoded, see FirstError).
template <size_t N, typename Fn>
absl::Status Fields(od::object object, const std::string_view (&keys)[N], Fn fn) {
  static_assert(N <= 32, "at most 32 keys");
  uint32_t seen = 0;
  FirstError first;
  for (auto result : object) {
    od::field field;
    if (simdjson::error_code e = std::move(result).get(field)) return JsonError(e);
    std::string_view key;
    LK_RETURN_IF_ERROR(Key(field, key));
    int rank = KeyIndex(keys, key);
    if (rank < 0 || (seen & (1u << rank)) != 0) continue;
    seen |= 1u << rank;
    if (!first.Add(rank, fn(rank, keys[rank], field.value()))) break;
  }
  return std::move(first).status();
}

// Member `key` of the object at `at`, which must be an object: Fields() on it, with
// `fn(rank, key, value, at)` getting the member's own At.
template <size_t N, typename Fn>
absl::Status Object(od::value& v, const At& at, std::string_view key,
                    const std::string_view (&keys)[N], Fn fn) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::object, at, key, "an object", present));
  if (!present) return absl::OkStatus();
  od::object object;
  if (simdjson::error_code e = v.get_object().get(object)) return JsonError(e);
  At here{&at, key};
  return Fields(object, keys, [&](int rank, std::string_view name, od::value& field) {
    return fn(rank, name, field, here);
  });
}

// Member `key` of the object at `at`, a list of objects: `fn(element, element_at)` for each
// (an od::object), up to the first that fails.
template <typename Fn>
absl::Status Each(od::value& v, const At& at, std::string_view key, Fn fn) {
  bool present;
  LK_RETURN_IF_ERROR(Expect(v, od::json_type::array, at, key, "a list", present));
  if (!present) return absl::OkStatus();
  od::array array;
  if (simdjson::error_code e = v.get_array().get(array)) return JsonError(e);
  At list{&at, key};
  int i = 0;
  for (auto result : array) {
    od::value element;
    if (simdjson::error_code e = std::move(result).get(element)) return JsonError(e);
    At item{&list, {}, i++};
    od::json_type type;
    if (simdjson::error_code e = element.type().get(type)) return JsonError(e);
    if (type != od::json_type::object) {
      LK_RETURN_IF_ERROR(CheckScalar(element, type));
      return absl::InvalidArgumentError(item.str() + ": must be an object");
    }
    od::object object;
    if (simdjson::error_code e = element.get_object().get(object)) return JsonError(e);
    LK_RETURN_IF_ERROR(fn(object, item));
  }
  return absl::OkStatus();
}

}  // namespace labkube::kube::sj

#endif  // LABKUBE_LIB_KUBE_SIMDJSON_FIELDS_H_
