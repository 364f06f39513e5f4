-- SPDX-License-Identifier: Apache-2.0
-- EHR Sessions schema, embedded SQLite default. Mirrors postgres/0001_initial.sql.
CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    disabled_at      INTEGER,
    totp_secret_enc  TEXT,
    mfa_enabled_at   INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE user_sessions (
    id                       TEXT PRIMARY KEY,
    user_id                  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_token_hash        TEXT NOT NULL,
    refresh_token_hash       TEXT NOT NULL,
    prev_refresh_token_hash  TEXT,
    rotation_counter         INTEGER NOT NULL DEFAULT 0,
    rotated_at               INTEGER NOT NULL,
    expires_at               INTEGER NOT NULL,
    created_at               INTEGER NOT NULL,
    last_activity_at         INTEGER NOT NULL,
    revoked_at               INTEGER,
    revoke_reason            TEXT,
    is_active                BOOLEAN NOT NULL DEFAULT 1,
    ip_address               TEXT,
    user_agent               TEXT,
    device_info              TEXT,
    name                     TEXT,
    metadata                 TEXT
);
CREATE UNIQUE INDEX user_sessions_refresh_hash ON user_sessions (refresh_token_hash);
CREATE INDEX user_sessions_prev_refresh_hash ON user_sessions (prev_refresh_token_hash)
    WHERE prev_refresh_token_hash IS NOT NULL;
CREATE INDEX user_sessions_user_active ON user_sessions (user_id) WHERE is_active;
CREATE INDEX user_sessions_expires ON user_sessions (expires_at);
CREATE INDEX user_sessions_revoked ON user_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at  INTEGER NOT NULL,
    event        TEXT NOT NULL,
    user_id      TEXT,
    session_id   TEXT,
    ip_address   TEXT,
    user_agent   TEXT,
    details      TEXT
);
CREATE INDEX audit_events_user ON audit_events (user_id, occurred_at);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
