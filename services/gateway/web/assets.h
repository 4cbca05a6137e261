// The page's files (services/gateway/web/assets/), compiled into the gateway binary by the
// embed_assets genrule (BUILD.bazel): nothing is read from disk or fetched at run time.
//
// Immutable data; safe from any thread.
#ifndef LABKUBE_SERVICES_GATEWAY_WEB_ASSETS_H_
#define LABKUBE_SERVICES_GATEWAY_WEB_ASSETS_H_

#include <string_view>
#include <vector>

namespace labkube::gateway::web {

struct Asset {
  std::string_view path;  // "/index.html"
  std::string_view content_type;
  std::string_view data;
};

// Every embedded file (generated assets.cc).
const std::vector<Asset>& Assets();

}  // namespace labkube::gateway::web

#endif  // LABKUBE_SERVICES_GATEWAY_WEB_ASSETS_H_
