// SPDX-License-Identifier: Apache-2.0
#include "HttpResponder.h"

#include "HttpConnection.h"

namespace ehrs::server {

void HttpResponder::send(HttpResponse response) const
{
    if (HttpConnection* c = m_connection.data())
        c->answer(m_sequence, std::move(response));
}

} // namespace ehrs::server
