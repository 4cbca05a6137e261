// RestClient: the Client interface (client.h) over the Kubernetes REST API, through a Transport
// (http_transport.h; CurlTransport in production, a fake in unit tests).
//
// It builds URLs and query strings, sends JSON bodies with the content type of each patch type,
// parses responses, and maps errors with ToStatus (status.h). Watch splits the stream into
// newline-delimited JSON events (an event may span chunks); an ERROR event is delivered to the
// callback and then ends the watch with its status (410 Gone -> kOutOfRange).
//
// Safety checks before anything is sent: a namespaced resource needs a namespace for
// Get/Update/Patch/Delete/CreateSubresource (Create falls back to metadata.namespace), and a
// name is required where one is expected (an empty name must never turn a DELETE of one object
// into a DELETE of the collection).
//
// Ownership: owns its Transport. Thread safety: safe from many threads (the Transport is).
#ifndef LABKUBE_LIB_KUBE_REST_CLIENT_H_
#define LABKUBE_LIB_KUBE_REST_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "lib/kube/http_transport.h"

namespace labkube::kube {

class RestClient : public Client {
 public:
  static absl::StatusOr<std::unique_ptr<RestClient>> Create(const ClusterConfig& config,
                                                            TransportOptions options = {});
  explicit RestClient(std::unique_ptr<Transport> transport);

  absl::StatusOr<rapidjson::Document> Get(const Resource& resource, std::string_view ns,
                                          std::string_view name) override;
  absl::StatusOr<ObjectList> List(const Resource& resource, std::string_view ns,
                                  const ListOptions& options) override;
  absl::StatusOr<rapidjson::Document> Create(const Resource& resource, std::string_view ns,
                                             const rapidjson::Value& object,
                                             const WriteOptions& options = {}) override;
  absl::StatusOr<rapidjson::Document> Update(const Resource& resource, std::string_view ns,
                                             std::string_view name, const rapidjson::Value& object,
                                             std::string_view subresource = "",
                                             const WriteOptions& options = {}) override;
  absl::StatusOr<rapidjson::Document> Patch(const Resource& resource, std::string_view ns,
                                            std::string_view name, PatchType type,
                                            std::string_view patch,
                                            const PatchOptions& options = {}) override;
  absl::Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                      const DeleteOptions& options = {}) override;
  absl::StatusOr<rapidjson::Document> CreateSubresource(const Resource& resource,
                                                        std::string_view ns, std::string_view name,
                                                        std::string_view subresource,
                                                        const rapidjson::Value& body) override;
  absl::Status Watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                     const WatchCallback& on_event) override;

  // For raw requests (e.g. benchmarks, discovery).
  Transport& transport() { return *transport_; }

 private:
  // Sends `request`; a non-2xx response becomes an error. Returns the body.
  absl::StatusOr<std::string> Send(HttpRequest request);
  absl::StatusOr<rapidjson::Document> SendJson(HttpRequest request);

  std::unique_ptr<Transport> transport_;
};

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string UrlEncode(std::string_view s);
// "?k1=v1&k2=v2" (values encoded; pairs with empty values left out); "" when none remain.
std::string QueryString(const std::vector<std::pair<std::string, std::string>>& params);
// The Content-Type of a patch type.
std::string_view PatchContentType(PatchType type);

}  // namespace labkube::kube

#endif  // LABKUBE_LIB_KUBE_REST_CLIENT_H_
