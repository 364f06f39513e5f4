-- SPDX-License-Identifier: Apache-2.0
-- EHR Sessions schema, PostgreSQL. Times are milliseconds since the Unix epoch (UTC), the same in
-- the embedded SQLite schema, so that one set of queries serves both.
CREATE TABLE users (
    id               uuid PRIMARY KEY,
    email            text NOT NULL UNIQUE,             -- stored lower-case
    name             text NOT NULL,
    password_hash    text NOT NULL,                    -- argon2id PHC string
    role             text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled_at      bigint,
    totp_secret_enc  text,                             -- encrypted with the server key
    mfa_enabled_at   bigint,
    created_at       bigint NOT NULL,
    updated_at       bigint NOT NULL
);

CREATE TABLE user_sessions (
    id                       uuid PRIMARY KEY,
    user_id                  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_token_hash        text NOT NULL,            -- SHA-256 hex of the current access token
    refresh_token_hash       text NOT NULL,            -- SHA-256 hex of the current refresh token
    prev_refresh_token_hash  text,                     -- the rotated one, accepted until the new pair is used
    rotation_counter         integer NOT NULL DEFAULT 0,
    rotated_at               bigint NOT NULL,
    expires_at               bigint NOT NULL,          -- absolute end (REFRESH_TOKEN_TTL after login)
    created_at               bigint NOT NULL,
    last_activity_at         bigint NOT NULL,          -- idle expiry counts from here
    revoked_at               bigint,
    revoke_reason            text,
    is_active                boolean NOT NULL DEFAULT true,
    ip_address               text,
    user_agent               text,
    device_info              jsonb,
    name                     text,                     -- the user's own name for the session
    metadata                 jsonb
);
CREATE UNIQUE INDEX user_sessions_refresh_hash ON user_sessions (refresh_token_hash);
CREATE INDEX user_sessions_prev_refresh_hash ON user_sessions (prev_refresh_token_hash)
    WHERE prev_refresh_token_hash IS NOT NULL;
CREATE INDEX user_sessions_user_active ON user_sessions (user_id) WHERE is_active;
CREATE INDEX user_sessions_expires ON user_sessions (expires_at);
CREATE INDEX user_sessions_revoked ON user_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE audit_events (
    id           bigserial PRIMARY KEY,
    occurred_at  bigint NOT NULL,
    event        text NOT NULL,
    user_id      uuid,
    session_id   uuid,
    ip_address   text,
    user_agent   text,
    details      jsonb
);
CREATE INDEX audit_events_user ON audit_events (user_id, occurred_at);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
