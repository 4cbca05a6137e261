#include "lib/kube/client.h"

namespace labkube::kube {

const rapidjson::Value& ObjectList::items() const {
  static const rapidjson::Value& kEmpty = *new rapidjson::Value(rapidjson::kArrayType);
  if (!doc.IsObject()) return kEmpty;
  auto it = doc.FindMember("items");
  if (it == doc.MemberEnd() || !it->value.IsArray()) return kEmpty;
  return it->value;
}

}  // namespace labkube::kube
