// Fast decoding of a Kubernetes PodList body (GET /api/v1/pods) straight into the typed Pods of
// types.h with simdjson's On-Demand API, without building a RapidJSON document first (about
// twice the throughput of json::Parse + DecodeList<Pod>: see pod_decode_bench.cc).
//
// For valid JSON the Pods are exactly those of json::Parse + Decode<Pod> per item: same
// defaults for missing and null fields, unknown fields ignored, the first occurrence of a
// repeated key wins, and the same error for a wrong type, e.g.
//   items[3]: Pod team-a/web-1: spec.containers[1].resources.requests.cpu: must be a quantity
// (pod_list_decoder_test compares the two on captured and synthetic Pods). Differences, all on
// bodies the API server does not send:
//   - the list itself is checked: a body that is not an object, `items` that is not a list
//     (null counts as empty), or `metadata`, `metadata.resourceVersion`, `metadata.continue`
//     of the wrong type are errors (ObjectList::items() and RestClient::List ignore them);
//   - malformed JSON is "invalid JSON at offset N of M: <simdjson's reason>"; On-Demand reads
//     lazily, so malformed JSON inside values the decoder skips (e.g. `[1 2]` in
//     managedFields) may go unnoticed, and an item's type error is reported even when the
//     body is malformed further on;
//   - invalid UTF-8 anywhere is malformed JSON (json::Parse copies such bytes as they are).
//
// simdjson reads up to simdjson::SIMDJSON_PADDING bytes past the end of the body: Decode()
// copies the body into a buffer of its own (about 1 ms per 10 MB) unless the caller says that
// many bytes after it are readable (`capacity`, e.g. std::string::capacity()).
//
// Thread safety: a PodListDecoder keeps simdjson's parser and the copy buffer between calls,
// sized for the largest body seen (simdjson reserves about 6 bytes of address space per body
// byte, most of it untouched), and must be used by one thread at a time: use one per thread.
// DecodePodList() uses a fresh decoder and is safe from any thread. Decoded values are plain
// copies that do not refer to the body or the decoder.
#ifndef LABKUBE_LIB_KUBE_POD_LIST_DECODER_H_
#define LABKUBE_LIB_KUBE_POD_LIST_DECODER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/types.h"
#include "simdjson.h"

namespace labkube::kube {

struct PodList {
  std::vector<Pod> items;
  std::string resource_version;  // metadata.resourceVersion
  std::string continue_token;    // metadata.continue; "" on the last page
};

class PodListDecoder {
 public:
  PodListDecoder() = default;
  PodListDecoder(const PodListDecoder&) = delete;
  PodListDecoder& operator=(const PodListDecoder&) = delete;

  // Decodes the PodList `json`. `capacity`: how many bytes from json.data() may be read; when
  // it is at least json.size() + simdjson::SIMDJSON_PADDING the body is read in place,
  // otherwise it is first copied.
  absl::StatusOr<PodList> Decode(std::string_view json, size_t capacity = 0);

 private:
  simdjson::padded_string_view Padded(std::string_view json, size_t capacity);

  simdjson::ondemand::parser parser_;
  std::string buffer_;         // padded copy of the body when the caller's has no room
  size_t expected_items_ = 0;  // items of the last list, to reserve
};

// One-off form of PodListDecoder::Decode (copies `json`).
absl::StatusOr<PodList> DecodePodList(std::string_view json);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_POD_LIST_DECODER_H_
