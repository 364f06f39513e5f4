// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "config/ServerConfig.h"
#include "http/HttpRequest.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>

namespace ehrs::server {

/// The client-to-proxy chain of a request as the configured header tells it, leftmost (the
/// original client, by its own claim) first and the nearest proxy's entry last. Every line of
/// the header counts, in the order received: RFC 9110 §5.3 makes several lines equivalent to one
/// comma-joined value, and a client may send a line of its own before the proxy's.
/// Forwarded (RFC 7239): one entry per element, its `for=` node (empty when there is none).
QList<QByteArray> forwardedChain(const HttpRequest& request, ForwardedHeader header);

/// The address in one chain entry: "192.0.2.1", "192.0.2.1:8080", "2001:db8::1",
/// "[2001:db8::1]:443", optionally in double quotes. IPv4-mapped IPv6 comes back as IPv4. A null
/// address for "unknown", obfuscated identifiers ("_hidden") and anything unparseable.
QHostAddress parseForwardedNode(QByteArrayView node);

/// The client address: the socket peer, or, when the peer is a trusted proxy, the chain walked
/// from the right past trusted proxies: the first entry that is not one is the client. An entry
/// that is not an address stops the walk at the last trusted hop.
QHostAddress resolveClientAddress(const HttpRequest& request,
                                  const QList<QPair<QHostAddress, int>>& trustedProxies,
                                  ForwardedHeader header);

} // namespace ehrs::server
