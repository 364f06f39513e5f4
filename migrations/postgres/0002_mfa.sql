-- SPDX-License-Identifier: Apache-2.0
-- TOTP enrolment state and single-use backup codes.
ALTER TABLE users ADD COLUMN totp_pending_secret_enc text;   -- set by /mfa/setup until /mfa/enable
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0; -- replay protection: each code once

CREATE TABLE user_backup_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  text NOT NULL,        -- HMAC-SHA256 of the normalised code under a server key
    created_at bigint NOT NULL,
    used_at    bigint,
    PRIMARY KEY (user_id, code_hash)
);
