// Client address behind a trusted proxy. Members reach the authenticator through the gateway,
// which adds gRPC metadata `x-forwarded-for: <client ip>`; the lockout and the audit log need
// that client address, not the gateway's. TrustedProxies is the `--trusted_proxies` setting
// (IPv4/IPv6 addresses and CIDR networks); ClientAddress() honours x-forwarded-for only when the
// gRPC peer is inside one of them, so a peer not trusted can never pick its own lockout key.
//
//   absl::StatusOr<TrustedProxies> trusted = TrustedProxies::Parse("10.244.0.0/16, ::1");
//   std::string client = ClientAddress(*trusted, "10.244.3.7", "198.51.100.4");  // 198.51.100.4
//
// TrustedProxies is immutable after Parse(): its const methods and ClientAddress() are safe to
// call from many threads at once. Both are value types; nothing is borrowed.
#ifndef LABKUBE_SERVICES_AUTHENTICATOR_CLIENT_ADDRESS_H_
#define LABKUBE_SERVICES_AUTHENTICATOR_CLIENT_ADDRESS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace labkube::authenticator {

// A parsed IP address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are stored as IPv4.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  // Canonical text (inet_ntop): "10.0.0.1", "2001:db8::1".
  std::string ToString() const;
};

// `text` as an IPv4 or IPv6 address (no brackets, port, zone or surrounding spaces).
std::optional<IpAddress> ParseIpAddress(std::string_view text);

class TrustedProxies {
 public:
  // Trusts nobody.
  TrustedProxies() = default;

  // Comma-separated addresses or CIDR networks, e.g. "127.0.0.1, 10.244.0.0/16, fd00::/8".
  // Spaces around entries and empty entries are ignored ("" trusts nobody). A bad entry (not an
  // address, prefix length out of range, bits set after the prefix) is kInvalidArgument naming it.
  static absl::StatusOr<TrustedProxies> Parse(std::string_view spec);

  // True if `ip` (an address as text) is inside one of the networks; false for non-addresses.
  bool Contains(std::string_view ip) const;
  bool empty() const { return networks_.empty(); }
  // The networks in canonical CIDR form, comma-separated (for logs).
  std::string ToString() const;

 private:
  struct Network {
    IpAddress base;
    int prefix_len = 0;
  };
  // One entry ("10.244.0.0/16", "::1"); kInvalidArgument naming it.
  static absl::StatusOr<Network> ParseNetwork(std::string_view entry);
  static bool Matches(const Network& network, const IpAddress& ip);

  std::vector<Network> networks_;
};

// The client address for lockout and audit. `peer_ip`: the gRPC peer's address (PeerAddress());
// `forwarded_for`: the x-forwarded-for metadata, if the call carried it. When the peer is trusted
// and x-forwarded-for is present, its right-most entry (the address the proxy itself saw) in
// canonical form; if that entry is not an IP address, logs a warning and keeps the peer.
// Otherwise `peer_ip` unchanged.
std::string ClientAddress(const TrustedProxies& trusted, std::string_view peer_ip,
                          std::optional<std::string_view> forwarded_for);

}  // namespace labkube::authenticator

#endif  // LABKUBE_SERVICES_AUTHENTICATOR_CLIENT_ADDRESS_H_
