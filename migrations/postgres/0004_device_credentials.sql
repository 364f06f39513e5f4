-- SPDX-License-Identifier: Apache-2.0
-- Device credentials (OWASP "device cookies"): a client that signed in before presents one at
-- login and is then not subject to the lock-out that unknown clients' failures cause.
CREATE TABLE device_credentials (
    credential_hash text PRIMARY KEY,      -- SHA-256 (hex) of the credential; the credential itself is never stored
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      bigint NOT NULL,
    last_used_at    bigint NOT NULL,
    expires_at      bigint NOT NULL,       -- renewed on each successful use
    failures        integer NOT NULL DEFAULT 0, -- wrong passwords in a row presented with it
    revoked_at      bigint                 -- set when its failure budget ran out
);
CREATE INDEX device_credentials_user ON device_credentials (user_id, last_used_at);
