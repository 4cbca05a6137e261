#include "services/authenticator/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/kube/absl_compat.h"
#include "lib/log.h"

namespace labkube::authenticator {
namespace {

// Longest x-forwarded-for text quoted in a warning.
constexpr size_t kMaxLoggedForwardedFor = 256;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsV4Mapped(const uint8_t* b) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kPrefix, sizeof(kPrefix)) == 0;
}

absl::Status BadEntry(std::string_view entry, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad entry \"", ToAbsl(entry), "\": ", ToAbsl(why)));
}

// "24" -> 24; nullopt unless all digits (no sign, no spaces) and at most `max`.
std::optional<int> ParsePrefixLength(std::string_view text, int max) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

// True if any bit of `ip` after the first `prefix_len` bits is set.
bool HasHostBits(const IpAddress& ip, int prefix_len) {
  int total = ip.v6 ? 128 : 32;
  for (int bit = prefix_len; bit < total; ++bit) {
    if (ip.bytes[bit / 8] & (0x80 >> (bit % 8))) return true;
  }
  return false;
}

}  // namespace

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text)) == nullptr) return "";
  return text;
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string nul_terminated(text);
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, nul_terminated.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    return ip;
  }
  uint8_t v6[16];
  if (inet_pton(AF_INET6, nul_terminated.c_str(), v6) != 1) return std::nullopt;
  if (IsV4Mapped(v6)) {
    std::copy(v6 + 12, v6 + 16, ip.bytes.begin());
  } else {
    ip.v6 = true;
    std::copy(v6, v6 + 16, ip.bytes.begin());
  }
  return ip;
}

absl::StatusOr<TrustedProxies::Network> TrustedProxies::ParseNetwork(std::string_view entry) {
  size_t slash = entry.find('/');
  std::string_view address = entry.substr(0, slash);
  std::optional<IpAddress> ip = ParseIpAddress(address);
  if (!ip.has_value()) return BadEntry(entry, "not an IPv4 or IPv6 address");
  // An IPv4-mapped IPv6 entry (::ffff:10.0.0.0/104) is kept as IPv4; its prefix counts 128 bits.
  const bool mapped = !ip->v6 && address.find(':') != std::string_view::npos;
  const int max = ip->v6 || mapped ? 128 : 32;
  int prefix_len = max;
  if (slash != std::string_view::npos) {
    std::optional<int> parsed = ParsePrefixLength(entry.substr(slash + 1), max);
    if (!parsed.has_value() || (mapped && *parsed < 96)) {
      return BadEntry(entry, absl::StrCat("prefix length must be a number from ", mapped ? 96 : 0,
                                          " to ", max));
    }
    prefix_len = mapped ? *parsed - 96 : *parsed;
  }
  if (HasHostBits(*ip, prefix_len)) {
    return BadEntry(entry, "address bits set after the prefix length (not a network address)");
  }
  return Network{*ip, prefix_len};
}

absl::StatusOr<TrustedProxies> TrustedProxies::Parse(std::string_view spec) {
  TrustedProxies result;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view entry = Trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (entry.empty()) continue;
    absl::StatusOr<Network> network = ParseNetwork(entry);
    if (!network.ok()) return network.status();
    result.networks_.push_back(*network);
  }
  return result;
}

bool TrustedProxies::Matches(const Network& network, const IpAddress& ip) {
  if (network.base.v6 != ip.v6) return false;
  int full = network.prefix_len / 8;
  if (!std::equal(ip.bytes.begin(), ip.bytes.begin() + full, network.base.bytes.begin())) {
    return false;
  }
  int rest = network.prefix_len % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == (network.base.bytes[full] & mask);
}

bool TrustedProxies::Contains(std::string_view ip) const {
  if (networks_.empty()) return false;
  std::optional<IpAddress> parsed = ParseIpAddress(ip);
  if (!parsed.has_value()) return false;
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const Network& n) { return Matches(n, *parsed); });
}

std::string TrustedProxies::ToString() const {
  std::string out;
  for (const Network& n : networks_) {
    absl::StrAppend(&out, out.empty() ? "" : ",", n.base.ToString(), "/", n.prefix_len);
  }
  return out;
}

std::string ClientAddress(const TrustedProxies& trusted, std::string_view peer_ip,
                          std::optional<std::string_view> forwarded_for) {
  if (!forwarded_for.has_value() || !trusted.Contains(peer_ip)) return std::string(peer_ip);
  std::string_view entry = *forwarded_for;
  if (size_t comma = entry.rfind(','); comma != std::string_view::npos) {
    entry.remove_prefix(comma + 1);
  }
  if (std::optional<IpAddress> client = ParseIpAddress(Trim(entry))) return client->ToString();
  LogEvent(LogLevel::kWarn, "authenticator.bad_forwarded_for",
           {{"peer", peer_ip},
            {"x_forwarded_for", forwarded_for->substr(0, kMaxLoggedForwardedFor)},
            {"using", "peer"}});
  return std::string(peer_ip);
}

}  // namespace labkube::authenticator
